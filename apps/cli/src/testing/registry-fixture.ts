// Test helper: puts a few services into the real Consul, Eureka and Cloud Map peers (the way
// scripts/local/seed.mjs does) under names unique to one run, and takes them out again.
import { CloudMap, type PeersEnv } from '@registry-bridge/test-peers';

async function ok(res: Response, what: string): Promise<void> {
  if (!res.ok) throw new Error(`${what}: HTTP ${res.status} ${(await res.text()).slice(0, 300)}`);
}

export class RegistryFixture {
  private readonly cleanups: Array<() => Promise<unknown>> = [];
  /** The one Cloud Map test client of the suites (libs/test-peers). */
  private readonly cloudMapFixture: CloudMap;

  constructor(private readonly peers: PeersEnv) {
    this.cloudMapFixture = new CloudMap(peers);
  }

  async consul(name: string, id: string, address: string, port: number, passing: boolean, extra: Record<string, unknown> = {}): Promise<void> {
    const c = this.peers.consul.addr;
    const body = { Name: name, ID: id, Address: address, Port: port, Check: { TTL: '24h', Status: passing ? 'passing' : 'critical', CheckID: `check-${id}` }, ...extra };
    await ok(await fetch(`${c}/v1/agent/service/register`, { method: 'PUT', body: JSON.stringify(body) }), `consul register ${id}`);
    this.cleanups.push(() => fetch(`${c}/v1/agent/service/deregister/${id}`, { method: 'PUT' }));
  }

  async eureka(app: string, id: string, ip: string, port: number, status: 'UP' | 'DOWN', metadata: Record<string, string> = {}): Promise<void> {
    const base = this.peers.eureka.url;
    const instance = {
      instanceId: id,
      hostName: `${id}.local`,
      app,
      ipAddr: ip,
      status,
      vipAddress: app.toLowerCase(),
      port: { $: port, '@enabled': 'true' },
      securePort: { $: 8443, '@enabled': 'false' },
      dataCenterInfo: { '@class': 'com.netflix.appinfo.InstanceInfo$DefaultDataCenterInfo', name: 'MyOwn' },
      leaseInfo: { durationInSecs: 3600, renewalIntervalInSecs: 30 },
      metadata,
    };
    await ok(await fetch(`${base}/apps/${app}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ instance }) }), `eureka register ${id}`);
    this.cleanups.push(() => fetch(`${base}/apps/${app}/${id}`, { method: 'DELETE' }));
  }

  /** An HTTP namespace with one service and its instances (attributes as Cloud Map has them). */
  async cloudMap(namespace: string, service: string, instances: Array<{ id: string; ip: string; port: number }>): Promise<void> {
    const cm = this.cloudMapFixture;
    const nsId = await cm.namespace(namespace, 'HTTP');
    const serviceId = await cm.service(nsId, service);
    this.cleanups.push(() => cm.deleteService(serviceId));
    for (const i of instances) {
      await cm.register(serviceId, i.id, { AWS_INSTANCE_IPV4: i.ip, AWS_INSTANCE_PORT: String(i.port) });
      this.cleanups.push(() => cm.deregister(serviceId, i.id));
    }
  }

  /** Removes everything in reverse order; best effort, so one failure does not keep the rest. */
  async tearDown(): Promise<void> {
    for (const c of this.cleanups.reverse()) await c().catch(() => undefined);
    this.cloudMapFixture.close();
  }
}
