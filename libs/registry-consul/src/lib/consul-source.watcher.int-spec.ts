// Against the real Consul dev agents of `bash scripts/peers.sh up` (plain and ACL-enabled).
import { ServiceRecordInput } from '@registry-bridge/contract';
import { loadPeersEnv, PeersEnv } from '@registry-bridge/test-peers';
import Consul from 'consul';
import { createConsulClient, socketBudget } from './consul-client.factory';
import { ConsulHttpClient } from './consul-http.client';
import { consulSourceSchema, ConsulSourceInput, toWatchOptions } from './consul-source.schema';
import type { RecordPort } from '@registry-bridge/source-kit';
import { consulEmitter } from './consul-source-health';
import { ConsulSourceWatcher } from './consul-source.watcher';

class RecordingSink implements RecordPort {
  upserts: Array<ServiceRecordInput & { at: number }> = [];
  removes: Array<{ service: string; revision: number; at: number }> = [];
  snapshots: Array<{ complete: boolean; services: Array<{ service: string }> }> = [];
  statuses: Array<{ reachable: boolean; error?: string }> = [];
  async upsert(r: ServiceRecordInput) {
    this.upserts.push({ ...r, at: Date.now() });
  }
  async remove(m: { service: string; revision: number }) {
    this.removes.push({ ...m, at: Date.now() });
  }
  async snapshot(m: { complete: boolean; services: Array<{ service: string }> }) {
    this.snapshots.push(m);
  }
  async sourceStatus(s: { reachable: boolean; error?: string }) {
    this.statuses.push(s);
  }
  last(service: string) {
    return [...this.upserts].reverse().find((u) => u.service === service);
  }
}

const log = { info: () => undefined, warn: () => undefined, error: () => undefined };
const until = async (what: string, cond: () => boolean, ms = 15000): Promise<number> => {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
  return Date.now() - t0;
};
const consulOf = (addr: string, token?: string) => {
  const u = new URL(addr);
  return new Consul({ host: u.hostname, port: Number(u.port), defaults: token ? { token } : undefined });
};
// The generated int config's testTimeout is not applied per project; say it here.
jest.setTimeout(60000);
const run = `it${Date.now().toString(36)}`;

describe('ConsulSourceWatcher against the real Consul agent', () => {
  let peers: PeersEnv;
  let consul: Consul;
  const started: ConsulSourceWatcher[] = [];
  const registered: string[] = [];
  const externalNodes: string[] = [];

  beforeAll(async () => {
    peers = await loadPeersEnv({ peers: ['consul', 'consulAcl'] });
    consul = consulOf(peers.consul.addr);
  });
  afterEach(async () => {
    await Promise.all(started.splice(0).map((w) => w.stop()));
  });
  afterAll(async () => {
    if (!consul) return;
    // Sidecars leave with their service, so some of these are gone already.
    const quiet = (p: Promise<unknown>) => p.catch(() => undefined);
    for (let i = 0; i < registered.length; i += 25) await Promise.all(registered.slice(i, i + 25).map((id) => quiet(consul.agent.service.deregister(id))));
    for (const node of externalNodes) await quiet(consul.catalog.deregister({ node }));
  });

  function watcher(prefix: string, over: Partial<ConsulSourceInput> = {}, client?: ConsulHttpClient) {
    const cfg = toWatchOptions(
      consulSourceSchema.parse({
        name: 'consul-it',
        address: peers.consul.addr,
        filters: { allow: [`${prefix}*`] },
        watch: { waitSeconds: 10, minLoopIntervalSeconds: 0.05, pollRatePerSecond: 50 },
        ...over,
      }),
    );
    const sink = new RecordingSink();
    const w = new ConsulSourceWatcher(cfg, client ?? createConsulClient(cfg), consulEmitter(cfg.name, { port: sink }), { owns: () => true, snapshotLease: async () => true }, log);
    started.push(w);
    return { w, sink, cfg };
  }

  async function register(name: string, id: string, over: Record<string, unknown> = {}) {
    // The client's typings want every check field; a TTL check needs only these.
    const opts = { name, id, port: 8080, address: '10.1.0.1', check: { ttl: '600s', status: 'passing' }, ...over };
    await consul.agent.service.register(opts as never);
    registered.push(id);
  }

  it('follows register, health flip, tag change and deregistration within a blocking round trip', async () => {
    const p = `${run}-life-`;
    const { w, sink } = watcher(p);
    await w.start();
    await until('first catalog read', () => sink.snapshots.length > 0);

    let t = Date.now();
    await register(`${p}web`, `${p}web-1`, { tags: ['version=v1', 'primary'], meta: { protocol: 'http' } });
    const tReg = (Date.now() - t) + await until('upsert after register', () => !!sink.last(`${p}web`));
    expect(sink.last(`${p}web`)).toMatchObject({
      ports: [{ name: 'http', number: 8080, protocol: 'HTTP' }],
      endpoints: [{ address: '10.1.0.1', health: 'healthy', labels: { version: 'v1', 'tag.primary': 'true', protocol: 'http' }, locality: 'dc1' }],
    });
    const rev1 = sink.last(`${p}web`)?.revision ?? 0;

    t = Date.now();
    await consul.agent.check.fail(`service:${p}web-1`);
    const tFail = (Date.now() - t) + await until('unhealthy', () => sink.last(`${p}web`)?.endpoints[0].health === 'unhealthy');
    const rev2 = sink.last(`${p}web`)?.revision ?? 0;
    expect(rev2).toBeGreaterThan(rev1);

    await consul.agent.check.pass(`service:${p}web-1`);
    await until('healthy again', () => sink.last(`${p}web`)?.endpoints[0].health === 'healthy');

    t = Date.now();
    await register(`${p}web`, `${p}web-1`, { tags: ['version=v2'], meta: { protocol: 'http' } });
    const tTags = (Date.now() - t) + await until('tag change', () => sink.last(`${p}web`)?.endpoints[0].labels?.['version'] === 'v2');
    expect(sink.last(`${p}web`)?.endpoints[0].labels).not.toHaveProperty('tag.primary');

    const upsertsBefore = sink.upserts.length;
    t = Date.now();
    await consul.agent.service.deregister(`${p}web-1`);
    const tDereg = (Date.now() - t) + await until('remove', () => sink.removes.some((r) => r.service === `${p}web`));
    expect(sink.removes[0].revision).toBeGreaterThan(sink.last(`${p}web`)?.revision ?? 0);
    await until('snapshot without it', () => sink.snapshots.at(-1)?.services.every((s) => s.service !== `${p}web`) ?? false);
    expect(sink.snapshots.at(-1)?.complete).toBe(true);
    // at most one interim upsert (no instances) between deregistration and the catalog update
    expect(sink.upserts.length - upsertsBefore).toBeLessThanOrEqual(1);
    process.stdout.write(`[measure] latency ms: register ${tReg}, health flip ${tFail}, tag change ${tTags}, deregister ${tDereg}\n`);
  });

  it('falls back to the node address, and leaves Connect proxies and `consul` out', async () => {
    const p = `${run}-node-`;
    const node = `${p}ext-node`;
    await consul.catalog.register({ node, address: '10.77.0.9', service: { service: `${p}legacy`, id: `${p}legacy-1`, port: 9000 } });
    externalNodes.push(node);
    await register(`${p}mesh`, `${p}mesh-1`, { connect: { sidecarservice: {} } });
    registered.push(`${p}mesh-1-sidecar-proxy`);
    const { w, sink } = watcher(p, { filters: { allow: [`${p}*`, 'consul'] } });
    await w.start();
    await until('legacy and mesh', () => !!sink.last(`${p}legacy`) && !!sink.last(`${p}mesh`));
    expect(sink.last(`${p}legacy`)?.endpoints).toEqual([expect.objectContaining({ id: `${node}/${p}legacy-1`, address: '10.77.0.9', health: 'healthy' })]);
    await new Promise((r) => setTimeout(r, 300));
    const names = new Set(sink.upserts.map((u) => u.service));
    expect(names.has(`${p}mesh-sidecar-proxy`)).toBe(false);
    expect(names.has('consul')).toBe(false);
    expect(sink.snapshots.at(-1)?.services.map((s) => s.service).sort()).toEqual([`${p}legacy`, `${p}mesh`]);
  });

  it('covers hundreds of services with a bounded number of long polls', async () => {
    const p = `${run}-many-`;
    // Larger runs for measuring: RB_IT_CONSUL_SERVICES=2000 RB_IT_CONSUL_POOL=128.
    const n = Number(process.env['RB_IT_CONSUL_SERVICES'] ?? 300);
    const pool = Number(process.env['RB_IT_CONSUL_POOL'] ?? 50);
    for (let i = 0; i < n; i += 25) {
      await Promise.all(Array.from({ length: Math.min(25, n - i) }, (_, j) => register(`${p}svc${i + j}`, `${p}svc${i + j}-1`, { address: `10.2.${(i + j) >> 8}.${(i + j) & 255}` })));
    }
    const cfgOver = { watch: { waitSeconds: 10, minLoopIntervalSeconds: 0.05, maxBlockingWatches: pool, pollRatePerSecond: 100, pollConcurrency: 4 } };
    const parsed = toWatchOptions(consulSourceSchema.parse({ name: 'consul-it', address: peers.consul.addr, ...cfgOver }));
    const client = createConsulClient(parsed);
    const { w, sink } = watcher(p, cfgOver, client);
    let maxSockets = 0;
    const sampler = setInterval(() => (maxSockets = Math.max(maxSockets, client.openSockets())), 10);
    try {
      const t0 = Date.now();
      await w.start();
      await until('all services', () => new Set(sink.upserts.map((u) => u.service)).size === n, 120000);
      const tAll = Date.now() - t0;
      expect(w.status.conditions['blockingWatches']).toBe(pool);

      const pooled = w.blockingPool()[0];
      const outside = Array.from({ length: n }, (_, i) => `${p}svc${i}`).find((s) => !w.blockingPool().includes(s)) as string;
      const flip = async (svc: string) => {
        const t = Date.now();
        await consul.agent.check.fail(`service:${svc}-1`);
        await until(`flip of ${svc}`, () => sink.last(svc)?.endpoints[0].health === 'unhealthy');
        return Date.now() - t;
      };
      const tPooled = await flip(pooled);
      const tOutside = await flip(outside);
      // An edit that moves neither tags nor checks (catalog API, node without checks): only the
      // round-robin sweep sees it, so it is bounded by (services outside the pool) / pollRatePerSecond.
      const other = `${p}svc${n - 1}`;
      expect(w.blockingPool()).not.toContain(other);
      const t = Date.now();
      await consul.catalog.register({ node: `${p}ext`, address: '10.98.0.1', service: { service: other, id: `${other}-1`, port: 8080, address: '10.99.99.99' } });
      externalNodes.push(`${p}ext`);
      await until(`address edit of ${other}`, () => sink.last(other)?.endpoints.some((e) => e.address === '10.99.99.99') ?? false, 60000);
      const tSweep = Date.now() - t;
      expect(maxSockets).toBeLessThanOrEqual(socketBudget(parsed));
      expect(w.blockingPool()).toHaveLength(pool);
      process.stdout.write(
        `[measure] ${n} services, pool ${pool}: all read in ${tAll} ms; health flip pooled ${tPooled} ms, outside pool ${tOutside} ms; ` +
          `address-only edit outside pool ${tSweep} ms; max open sockets ${maxSockets} (budget ${socketBudget(parsed)})\n`,
      );
    } finally {
      clearInterval(sampler);
    }
  }, 600000);

  it('an unreachable Consul is reported as such, with nothing that reads as empty', async () => {
    const { w, sink } = watcher(`${run}-down-`, { address: 'http://127.0.0.1:1', watch: { backoffBaseSeconds: 0.02, backoffMaxSeconds: 0.05 } });
    await w.start();
    await until('two failed attempts', () => sink.statuses.filter((s) => !s.reachable).length >= 2);
    expect(sink.statuses.at(-1)).toMatchObject({ reachable: false, error: expect.stringMatching(/ECONNREFUSED/) });
    expect(sink.snapshots).toEqual([]);
    expect(sink.upserts).toEqual([]);
    expect(sink.removes).toEqual([]);
  });

  // Issue 16.12, on the real agent: a Connect user's service-defaults says the protocol. (The
  // proxy-defaults global entry would change every service of the shared agent: unit-tested only.)
  it('takes the protocol from the service-defaults config entry and follows its changes', async () => {
    const p = `${run}-cfg-`;
    const svc = `${p}web`;
    const entry = async (protocol: string) => {
      const r = await fetch(`${peers.consul.addr}/v1/config`, { method: 'PUT', body: JSON.stringify({ Kind: 'service-defaults', Name: svc, Protocol: protocol }) });
      if (!r.ok) throw new Error(`config entry: ${r.status} ${await r.text()}`);
    };
    try {
      await entry('grpc');
      await register(svc, `${svc}-1`);
      const { w, sink } = watcher(p);
      await w.start();
      await until('record with the protocol of service-defaults', () => sink.last(svc)?.ports[0]?.protocol === 'GRPC');
      expect(sink.upserts.filter((u) => u.service === svc)).toHaveLength(1);
      const rev = sink.last(svc)?.revision ?? 0;
      await entry('http');
      await until('re-sent with the new protocol', () => sink.last(svc)?.ports[0]?.protocol === 'HTTP');
      expect(sink.last(svc)?.revision).toBeGreaterThan(rev);
      // the instance's own meta wins
      await register(svc, `${svc}-1`, { meta: { protocol: 'http2' } });
      await until('meta wins', () => sink.last(svc)?.ports[0]?.protocol === 'HTTP2');
    } finally {
      await fetch(`${peers.consul.addr}/v1/config/service-defaults/${svc}`, { method: 'DELETE' });
    }
  });

  describe('with ACLs (default deny)', () => {
    const acl = async (path: string, body: unknown) => {
      const r = await fetch(`${peers.consul.aclAddr}${path}`, { method: 'PUT', headers: { 'x-consul-token': peers.consul.aclToken }, body: JSON.stringify(body) });
      if (!r.ok) throw new Error(`${path}: ${r.status} ${await r.text()}`);
      return (await r.json()) as { ID: string; SecretID: string; AccessorID: string };
    };
    const p = `${run}-acl-`;
    const cleanup: string[] = [];
    let aclConsul: Consul;

    beforeAll(async () => {
      aclConsul = consulOf(peers.consul.aclAddr, peers.consul.aclToken);
      await aclConsul.agent.service.register({ name: `${p}pay`, id: `${p}pay-1`, port: 7000, address: '10.3.0.1' });
    });
    afterAll(async () => {
      await aclConsul?.agent.service.deregister(`${p}pay-1`);
      for (const path of cleanup) await fetch(`${peers.consul.aclAddr}${path}`, { method: 'DELETE', headers: { 'x-consul-token': peers.consul.aclToken } });
    });

    /** Secrets come from env or file only: hand the token over as an env var, as in production. */
    const viaEnv = (token: string) => {
      const name = `RB_IT_CONSUL_TOKEN_${Object.keys(process.env).length}`;
      process.env[name] = token;
      return { env: name } as unknown as string;
    };

    async function tokenWith(rules: string): Promise<string> {
      const policy = await acl('/v1/acl/policy', { Name: `${p}${cleanup.length}`, Rules: rules });
      const token = await acl('/v1/acl/token', { Policies: [{ ID: policy.ID }] });
      cleanup.push(`/v1/acl/token/${token.AccessorID}`, `/v1/acl/policy/${policy.ID}`);
      return token.SecretID;
    }

    it('a token without service:read fails clearly: no records, only incomplete snapshots, an error naming the rule', async () => {
      const token = await tokenWith('node_prefix "" { policy = "read" }');
      const { w, sink } = watcher(p, { address: peers.consul.aclAddr, token: viaEnv(token) });
      await w.start();
      await until('a status', () => sink.statuses.length > 0);
      await new Promise((r) => setTimeout(r, 300));
      expect(sink.upserts).toEqual([]);
      expect(sink.snapshots.every((s) => !s.complete)).toBe(true);
      expect(w.status).toMatchObject({ reachable: true, conditions: { aclFiltered: true } });
      expect(w.status.error).toMatch(/service:read/);
    });

    it('an unknown token is refused (reachable=false, 403 named)', async () => {
      const { w, sink } = watcher(p, { address: peers.consul.aclAddr, token: viaEnv('6d3d5b3c-0000-4000-8000-000000000000') });
      await w.start();
      await until('unreachable status', () => sink.statuses.some((s) => !s.reachable && /403/.test(s.error ?? '')));
      expect(sink.snapshots).toEqual([]);
      expect(sink.upserts).toEqual([]);
    });

    it('no token under default deny never reads as an empty inventory', async () => {
      const { w, sink } = watcher(p, { address: peers.consul.aclAddr });
      await w.start();
      await until('a status', () => sink.statuses.length > 0);
      expect(sink.snapshots.every((s) => !s.complete)).toBe(true);
      expect(w.status.error).toMatch(/default policy is deny/);
    });

    it('a token with service:read and node:read works', async () => {
      const token = await tokenWith(`service_prefix "${p}" { policy = "read" }\nservice "consul" { policy = "read" }\nnode_prefix "" { policy = "read" }`);
      const { w, sink } = watcher(p, { address: peers.consul.aclAddr, token: viaEnv(token) });
      await w.start();
      await until('record', () => !!sink.last(`${p}pay`));
      expect(sink.last(`${p}pay`)?.endpoints).toEqual([expect.objectContaining({ address: '10.3.0.1', health: 'healthy' })]);
      // the token may read only its prefix: other services would be hidden, so the snapshot says incomplete unless nothing was filtered
      expect(sink.snapshots.at(-1)?.services.map((s) => s.service)).toContain(`${p}pay`);
    });
  });
});
