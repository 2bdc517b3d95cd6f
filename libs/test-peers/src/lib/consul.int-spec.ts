import { loadPeersEnv, PeersEnv } from './peers-env';

// Smoke test of the two Consul dev agents: register and watch (blocking query), and ACLs.
interface HealthEntry {
  Service: { ID: string; Service: string; Address: string; Port: number };
}

async function consul(base: string, path: string, init: RequestInit & { token?: string } = {}): Promise<Response> {
  const headers: Record<string, string> = { 'Content-Type': 'application/json' };
  if (init.token) headers['X-Consul-Token'] = init.token;
  return fetch(`${base}${path}`, { ...init, headers });
}

jest.setTimeout(60_000); // a loaded 2-core machine; the waits inside are bounded on their own

describe('peer: Consul', () => {
  let env: PeersEnv;
  beforeAll(async () => {
    env = await loadPeersEnv({ peers: ['consul', 'consulAcl'] });
  });

  it('registers a service and a blocking query returns when it changes', async () => {
    const name = `smoke-${process.pid}-${Date.now()}`;
    const register = (id: string, port: number): Promise<Response> =>
      consul(env.consul.addr, '/v1/agent/service/register', {
        method: 'PUT',
        body: JSON.stringify({ ID: id, Name: name, Address: '10.1.2.3', Port: port, Tags: ['smoke'] }),
      });
    try {
      expect((await register(`${name}-1`, 8080)).status).toBe(200);
      const first = await consul(env.consul.addr, `/v1/health/service/${name}`);
      expect(first.status).toBe(200);
      const index = Number(first.headers.get('X-Consul-Index'));
      expect(index).toBeGreaterThan(0);
      expect(((await first.json()) as HealthEntry[]).map((e) => e.Service.ID)).toEqual([`${name}-1`]);

      const started = Date.now();
      const watch = consul(env.consul.addr, `/v1/health/service/${name}?index=${index}&wait=30s`);
      await new Promise((r) => setTimeout(r, 500));
      expect((await register(`${name}-2`, 8081)).status).toBe(200);
      const changed = await watch;
      expect(Date.now() - started).toBeLessThan(29000); // woke up on the change, not on the wait timeout
      expect(Number(changed.headers.get('X-Consul-Index'))).toBeGreaterThan(index);
      const ids = ((await changed.json()) as HealthEntry[]).map((e) => e.Service.ID).sort();
      expect(ids).toEqual([`${name}-1`, `${name}-2`]);
    } finally {
      await consul(env.consul.addr, `/v1/agent/service/deregister/${name}-1`, { method: 'PUT' });
      await consul(env.consul.addr, `/v1/agent/service/deregister/${name}-2`, { method: 'PUT' });
    }
  });

  it('ACL agent: anonymous requests are denied, the bootstrap token works', async () => {
    const name = `smoke-acl-${process.pid}-${Date.now()}`;
    const body = JSON.stringify({ ID: name, Name: name, Address: '10.1.2.4', Port: 9090 });

    const anonymous = await consul(env.consul.aclAddr, '/v1/agent/service/register', { method: 'PUT', body });
    expect(anonymous.status).toBe(403);
    expect(await anonymous.text()).toMatch(/Permission denied/i);
    expect((await consul(env.consul.aclAddr, '/v1/kv/smoke')).status).toBe(403);

    const self = await consul(env.consul.aclAddr, '/v1/acl/token/self', { token: env.consul.aclToken });
    expect(self.status).toBe(200);
    expect(((await self.json()) as { Policies: { Name: string }[] }).Policies.map((p) => p.Name)).toContain('global-management');

    const token = env.consul.aclToken;
    try {
      expect((await consul(env.consul.aclAddr, '/v1/agent/service/register', { method: 'PUT', body, token })).status).toBe(200);
      const withToken = await consul(env.consul.aclAddr, '/v1/catalog/services', { token });
      expect(Object.keys((await withToken.json()) as object)).toContain(name);
      // default deny: anonymous catalog reads are filtered, not failed
      const anon = await consul(env.consul.aclAddr, '/v1/catalog/services');
      expect(anon.status).toBe(200);
      expect(Object.keys((await anon.json()) as object)).not.toContain(name);
    } finally {
      await consul(env.consul.aclAddr, `/v1/agent/service/deregister/${name}`, { method: 'PUT', token });
    }
  });
});
