import { eurekaInstance } from './eureka-instance';
import { loadPeersEnv, PeersEnv } from './peers-env';

// Smoke test of the two Eureka servers: register an instance over REST and read it back.
const instance = (app: string, host: string, ip: string, port: number) =>
  eurekaInstance(app, `${host}:${app.toLowerCase()}:${port}`, ip, {
    hostName: host,
    port: { $: port, '@enabled': 'true' },
    securePort: { $: 443, '@enabled': 'false' },
    leaseInfo: { renewalIntervalInSecs: 30, durationInSecs: 90 },
    metadata: { zone: 'smoke' },
  });

const JSON_HEADERS = { 'Content-Type': 'application/json', Accept: 'application/json' };

interface EurekaInstance {
  instanceId: string;
  ipAddr: string;
  status: string;
  port: { $: number };
  metadata: Record<string, string>;
}

jest.setTimeout(60_000); // a loaded 2-core machine; the waits inside are bounded on their own

describe('peer: Eureka', () => {
  let env: PeersEnv;
  beforeAll(async () => {
    env = await loadPeersEnv({ peers: ['eureka', 'eurekaCached'] });
  });

  it('registers an instance and reads it back (response cache off)', async () => {
    const app = `SMOKE-${process.pid}-${Date.now()}`;
    const res = await fetch(`${env.eureka.url}/apps/${app}`, { method: 'POST', headers: JSON_HEADERS, body: JSON.stringify(instance(app, 'host-a', '10.2.0.1', 8080)) });
    expect(res.status).toBe(204);
    try {
      const got = await fetch(`${env.eureka.url}/apps/${app}`, { headers: JSON_HEADERS });
      expect(got.status).toBe(200);
      const body = (await got.json()) as { application: { name: string; instance: EurekaInstance[] } };
      expect(body.application.name).toBe(app);
      expect(body.application.instance).toHaveLength(1);
      expect(body.application.instance[0]).toMatchObject({ instanceId: `host-a:${app.toLowerCase()}:8080`, ipAddr: '10.2.0.1', status: 'UP', port: { $: 8080 }, metadata: { zone: 'smoke' } });
      // the full registry shows it at once too (no read-only response cache on this server)
      const all = (await (await fetch(`${env.eureka.url}/apps`, { headers: JSON_HEADERS })).json()) as { applications: { application: { name: string }[] } };
      expect(all.applications.application.map((a) => a.name)).toContain(app);
    } finally {
      await fetch(`${env.eureka.url}/apps/${app}/host-a:${app.toLowerCase()}:8080`, { method: 'DELETE' });
    }
  });

  it('registers an instance on the cached server and reads the instance back', async () => {
    const app = `SMOKE-CACHED-${process.pid}-${Date.now()}`;
    const id = `host-b:${app.toLowerCase()}:8081`;
    const res = await fetch(`${env.eureka.cachedUrl}/apps/${app}`, { method: 'POST', headers: JSON_HEADERS, body: JSON.stringify(instance(app, 'host-b', '10.2.0.2', 8081)) });
    expect(res.status).toBe(204);
    try {
      // a single instance is read from the registry itself, not from the response cache
      const got = await fetch(`${env.eureka.cachedUrl}/apps/${app}/${id}`, { headers: JSON_HEADERS });
      expect(got.status).toBe(200);
      expect(((await got.json()) as { instance: EurekaInstance }).instance).toMatchObject({ instanceId: id, ipAddr: '10.2.0.2' });
    } finally {
      await fetch(`${env.eureka.cachedUrl}/apps/${app}/${id}`, { method: 'DELETE' });
    }
  });
});
