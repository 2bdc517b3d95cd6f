// The built collector against the real ACL-enabled Consul agent and Redis (`bash scripts/peers.sh up`):
// a token Consul filters must show where an operator looks first (issue 15.3).
import { loadPeersEnv, PeersEnv } from '@registry-bridge/test-peers';
import { CollectorProcess, startCollector, writeConfig } from './testing/collector-process';

jest.setTimeout(120000);

const run = `acl${Date.now().toString(36)}`;
const until = async (what: string, cond: () => Promise<boolean> | boolean, ms = 30000): Promise<void> => {
  const t0 = Date.now();
  while (!(await cond())) {
    if (Date.now() - t0 > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
};

describe('collector-consul with a token Consul filters', () => {
  let peers: PeersEnv;
  const procs: CollectorProcess[] = [];
  const cleanup: string[] = [];
  const acl = async (method: string, path: string, body?: unknown) => {
    const r = await fetch(`${peers.consul.aclAddr}${path}`, { method, headers: { 'x-consul-token': peers.consul.aclToken }, body: body === undefined ? undefined : JSON.stringify(body) });
    if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${await r.text()}`);
    const text = await r.text(); // the agent's register answers an empty body
    return (text ? JSON.parse(text) : {}) as { ID: string; SecretID: string; AccessorID: string };
  };
  async function tokenWith(rules: string): Promise<string> {
    const policy = await acl('PUT', '/v1/acl/policy', { Name: `${run}-${cleanup.length}`, Rules: rules });
    const token = await acl('PUT', '/v1/acl/token', { Policies: [{ ID: policy.ID }] });
    cleanup.push(`/v1/acl/token/${token.AccessorID}`, `/v1/acl/policy/${policy.ID}`);
    return token.SecretID;
  }
  async function collector(source: string, token: string): Promise<CollectorProcess> {
    const config = writeConfig(`
redis: { url: ${peers.redisUrl}, prefix: "{rbit-${run}}" }
collector: { heartbeatSeconds: 2 }
sources:
  - name: ${source}
    address: ${peers.consul.aclAddr}
    token: { env: RB_IT_CONSUL_TOKEN }
    watch: { waitSeconds: 5 }
`);
    const port = 19600 + Math.floor(Math.random() * 300);
    const p = await startCollector(config, port, { RB__http__port: String(port), RB__http__host: '127.0.0.1', RB_IT_CONSUL_TOKEN: token });
    procs.push(p);
    return p;
  }

  beforeAll(async () => {
    peers = await loadPeersEnv({ peers: ['consulAcl', 'redis'] });
    await acl('PUT', '/v1/agent/service/register', { Name: `${run}-pay`, ID: `${run}-pay-1`, Port: 7000, Address: '10.3.0.1' });
  });
  afterAll(async () => {
    await Promise.all(procs.map((p) => p.stop('SIGKILL')));
    if (!peers) return;
    await fetch(`${peers.consul.aclAddr}/v1/agent/service/deregister/${run}-pay-1`, { method: 'PUT', headers: { 'x-consul-token': peers.consul.aclToken } });
    for (const path of cleanup) await fetch(`${peers.consul.aclAddr}${path}`, { method: 'DELETE', headers: { 'x-consul-token': peers.consul.aclToken } });
  });

  it('node:read without service:read: a warning naming service:read, not ready with that reason, the acl_filtered gauge at 1', async () => {
    const token = await tokenWith('node_prefix "" { policy = "read" }');
    const p = await collector('consul-acl-none', token);
    await until('the warning', () => /lacks service:read on every service/.test(p.tail(20000)));
    const line = p.logs.join('').split('\n').find((l) => l.includes('lacks service:read'));
    expect(line).toMatch(/"level":(40|"warn")/);
    expect(line).not.toContain(token);
    const ready = await p.ready();
    expect(ready.status).toBe(503);
    expect(JSON.parse(ready.text).error['consul:consul-acl-none']).toEqual({ status: 'down', message: expect.stringMatching(/lacks service:read/) });
    expect(await p.metric('registry_bridge_consul_acl_filtered', { source: 'consul-acl-none', read: 'catalog' })).toBe(1);
  });

  it('service:read on some services: ready, with the warning as the check message, the gauge at 1', async () => {
    const token = await tokenWith(`service_prefix "${run}-" { policy = "read" }\nnode_prefix "" { policy = "read" }`);
    const p = await collector('consul-acl-some', token);
    await until('ready', async () => (await p.ready()).status === 200);
    const body = JSON.parse((await p.ready()).text) as { info: Record<string, { status: string; message?: string }> };
    expect(body.info['consul:consul-acl-some']).toEqual({ status: 'up', message: expect.stringMatching(/lacks service:read on some service/) });
    expect(await p.metric('registry_bridge_consul_acl_filtered', { source: 'consul-acl-some', read: 'catalog' })).toBe(1);
  });
});
