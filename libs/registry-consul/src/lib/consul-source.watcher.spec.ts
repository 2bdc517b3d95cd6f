import { ServiceRecordInput } from '@registry-bridge/contract';
import { ConsulHttpClient, ConsulRequestError, ConsulResponse } from './consul-http.client';
import { ConsulHealthEntry } from './consul-normalize';
import { consulSourceSchema, toWatchOptions } from './consul-source.schema';
import type { RecordPort, SourceHealth } from '@registry-bridge/source-kit';
import { consulEmitter, sourceReadiness } from './consul-source-health';
import { ConsulSourceWatcher } from './consul-source.watcher';
import { ConsulWatcherMetrics } from './consul-watch.types';

/** A fake Consul with blocking semantics: a request with the current index waits for a change. */
class FakeConsul {
  catalog: Record<string, string[]> = {};
  catalogIndex = 10;
  catalogFiltered = false;
  /** Services whose health answers Consul filters (the token lacks node:read). */
  healthFiltered = new Set<string>();
  health: Record<string, { entries: ConsulHealthEntry[]; index: number }> = {};
  stateIndex = 5;
  /** Config entries by kind; a number answers that HTTP status instead. */
  config: Record<string, { body: unknown; index: number } | number> = { 'service-defaults': { body: [], index: 3 }, 'proxy-defaults': { body: [], index: 3 } };
  down = false;
  trustDomain = 'aaaa-bbbb.consul';
  requests: string[] = [];
  /** Timeout asked for per request (undefined = the client's default). */
  timeouts: Array<number | undefined> = [];
  private waiters: Array<() => void> = [];

  changed(): void {
    const w = this.waiters;
    this.waiters = [];
    w.forEach((f) => f());
  }

  async get<T>(path: string, o: { index?: number; signal?: AbortSignal; timeoutMs?: number } = {}): Promise<ConsulResponse<T>> {
    // This request's own entry: a held blocking read may fail after later requests were made.
    const mine = this.requests.push(`${path}${o.index ? `?index=${o.index}` : ''}`) - 1;
    this.timeouts.push(o.timeoutMs);
    for (;;) {
      if (o.signal?.aborted) throw new ConsulRequestError('aborted', 'aborted');
      if (this.down) {
        this.requests[mine] += ' (refused)';
        throw new ConsulRequestError('network', 'connect ECONNREFUSED');
      }
      const cur = this.current(path);
      if (!o.index || cur.index !== o.index) return cur as ConsulResponse<T>;
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        o.signal?.addEventListener('abort', () => resolve(), { once: true });
      });
    }
  }

  private current(path: string): ConsulResponse<unknown> {
    const base = { filteredByAcl: false, knownLeader: true };
    if (path === '/v1/connect/ca/roots') return { ...base, body: { TrustDomain: this.trustDomain }, index: 1 };
    if (path === '/v1/catalog/services') return { ...base, body: this.catalog, index: this.catalogIndex, filteredByAcl: this.catalogFiltered };
    if (path === '/v1/health/state/any') return { ...base, body: [], index: this.stateIndex };
    if (path.startsWith('/v1/config/')) {
      const c = this.config[path.slice('/v1/config/'.length)];
      if (typeof c === 'number') throw new ConsulRequestError('acl', `Consul refused GET ${path} (${c} Permission denied)`, c);
      return { ...base, ...c };
    }
    const name = decodeURIComponent(path.replace('/v1/health/service/', ''));
    const h = this.health[name] ?? { entries: [], index: this.catalogIndex };
    return { ...base, body: h.entries, index: h.index, filteredByAcl: this.healthFiltered.has(name) };
  }

  close(): void {
    this.changed();
  }
}

const inst = (id: string, address = '10.0.0.1', status = 'passing'): ConsulHealthEntry => ({
  Node: { Node: 'n1', Address: address, Datacenter: 'dc1' },
  Service: { ID: id, Service: 'web', Port: 80, Tags: [] },
  Checks: [{ CheckID: 'c', Status: status }],
});

class RecordingSink implements RecordPort {
  upserts: ServiceRecordInput[] = [];
  removes: Array<{ service: string; revision: number; lineage?: string }> = [];
  snapshots: Array<{ complete: boolean; services: Array<{ service: string }> }> = [];
  statuses: Array<{ reachable: boolean; error?: string }> = [];
  async upsert(r: ServiceRecordInput) {
    this.upserts.push(r);
  }
  async remove(m: { service: string; revision: number; lineage?: string }) {
    this.removes.push(m);
  }
  async snapshot(m: { complete: boolean; services: Array<{ service: string }> }) {
    this.snapshots.push(m);
  }
  async sourceStatus(s: { reachable: boolean; error?: string }) {
    this.statuses.push(s);
  }
}

const quietLog = { info: () => undefined, warn: () => undefined, error: () => undefined };
const until = async (cond: () => boolean, ms = 3000): Promise<void> => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
};

/** Keeps the warnings and the ACL gauge values the watcher reports. */
class Observed {
  warnings: string[] = [];
  acl: Array<[string, number]> = [];
  log = { info: () => undefined, warn: (o: object, m: string) => void this.warnings.push(`${m} ${JSON.stringify(o)}`), error: () => undefined };
  metrics = new Proxy({} as ConsulWatcherMetrics, {
    get: (_t, k) => (k === 'aclFiltered' ? (read: string, n: number) => void this.acl.push([read, n]) : () => undefined),
  });
}

function setup(watch: object = {}, owns: (key: string) => boolean = () => true, observed?: Observed, source: object = {}) {
  const consul = new FakeConsul();
  const sink = new RecordingSink();
  const cfg = toWatchOptions(
    consulSourceSchema.parse({
      name: 'consul-dc1',
      address: 'http://127.0.0.1:8500',
      watch: { minLoopIntervalSeconds: 0, backoffBaseSeconds: 0.01, backoffMaxSeconds: 0.02, pollRatePerSecond: 200, ...watch },
      ...source,
    }),
  );
  const w = new ConsulSourceWatcher(cfg, consul as unknown as ConsulHttpClient, consulEmitter(cfg.name, { port: sink }), { owns, snapshotLease: async () => true }, observed?.log ?? quietLog, observed?.metrics);
  return { consul, sink, w };
}

describe('ConsulSourceWatcher', () => {
  let stop: (() => Promise<void>) | undefined;
  afterEach(async () => stop?.());

  it('emits a record per service, a complete snapshot, and skips `consul`', async () => {
    const { consul, sink, w } = setup();
    stop = () => w.stop();
    consul.catalog = { web: [], consul: [] };
    consul.health['web'] = { entries: [inst('web-1')], index: 12 };
    await w.start();
    await until(() => sink.upserts.length === 1 && sink.snapshots.length === 1);
    expect(sink.upserts[0]).toMatchObject({ service: 'web', revision: 12, lineage: 'consul-aaaa-bbbb', endpoints: [{ id: 'n1/web-1', health: 'healthy' }] });
    expect(sink.snapshots[0]).toMatchObject({ complete: true, services: [{ service: 'web' }] });
    expect(w.status).toMatchObject({ reachable: true, conditions: { services: 1, blockingWatches: 1 } });
    expect(w.ownedServices).toBe(1);
  });

  it('resendAll (Redis lost what was sent) re-sends every unchanged service at once, with a higher revision, and a complete snapshot', async () => {
    const { consul, sink, w } = setup({ waitSeconds: 60 });
    stop = () => w.stop();
    consul.catalog = { web: [], api: [] };
    consul.health['web'] = { entries: [inst('web-1')], index: 12 };
    consul.health['api'] = { entries: [inst('api-1', '10.0.0.2')], index: 13 };
    await w.start();
    await until(() => sink.upserts.length === 2 && sink.snapshots.length === 1);
    // nothing changes in Consul; the blocking reads would wait a minute
    w.resendAll();
    await until(() => sink.upserts.length === 4 && sink.snapshots.length === 2);
    const again = sink.upserts.slice(2).sort((a, b) => a.service.localeCompare(b.service));
    expect(again.map((r) => r.service)).toEqual(['api', 'web']);
    expect(again[0].revision).toBeGreaterThan(13);
    expect(again[1].revision).toBeGreaterThan(12);
    expect(sink.snapshots[1]).toMatchObject({ complete: true });
  });

  it('re-emits only on real change, with a higher revision, and removes a deregistered service', async () => {
    const { consul, sink, w } = setup();
    stop = () => w.stop();
    consul.catalog = { web: [] };
    consul.health['web'] = { entries: [inst('web-1')], index: 12 };
    await w.start();
    await until(() => sink.upserts.length === 1);
    // index moves, content does not (e.g. a check's output changed): nothing sent
    consul.health['web'] = { entries: [inst('web-1')], index: 13 };
    consul.changed();
    await until(() => consul.requests.includes('/v1/health/service/web?index=13'));
    expect(sink.upserts).toHaveLength(1);
    consul.health['web'] = { entries: [inst('web-1', '10.0.0.1', 'critical')], index: 14 };
    consul.changed();
    await until(() => sink.upserts.length === 2);
    expect(sink.upserts[1]).toMatchObject({ revision: 14, endpoints: [{ health: 'unhealthy' }] });
    consul.catalog = {};
    consul.catalogIndex = 20;
    consul.changed();
    await until(() => sink.removes.length === 1);
    expect(sink.removes[0]).toMatchObject({ service: 'web', revision: 20, lineage: 'consul-aaaa-bbbb' });
    await until(() => sink.snapshots.length === 2);
    expect(sink.snapshots[1]).toMatchObject({ complete: true, services: [] });
  });

  it('a health answer with no instance at all (a wiped agent) sends no empty record: the catalog decides the removal', async () => {
    const { consul, sink, w } = setup();
    stop = () => w.stop();
    consul.catalog = { web: [] };
    consul.health['web'] = { entries: [inst('web-1')], index: 12 };
    await w.start();
    await until(() => sink.upserts.length === 1);
    // the health read answers first, with nothing: Consul keeps no service without an instance
    consul.health['web'] = { entries: [], index: 13 };
    consul.changed();
    await until(() => consul.requests.includes('/v1/health/service/web?index=13'));
    expect(sink.upserts).toHaveLength(1);
    // …and the catalog then says it is gone: a removal, which the writer's deletion rules judge
    consul.catalog = {};
    consul.catalogIndex = 20;
    consul.changed();
    await until(() => sink.removes.length === 1);
    expect(sink.upserts).toHaveLength(1);
  });

  it('says unreachable and emits nothing that reads as empty while Consul is down', async () => {
    const { consul, sink, w } = setup();
    stop = () => w.stop();
    consul.catalog = { web: [] };
    consul.health['web'] = { entries: [inst('web-1')], index: 12 };
    await w.start();
    await until(() => sink.upserts.length === 1);
    const before = { snapshots: sink.snapshots.length };
    consul.down = true;
    consul.catalogIndex = 11; // wake the catalog watch into the outage
    consul.changed();
    await until(() => sink.statuses.some((s) => !s.reachable));
    await new Promise((r) => setTimeout(r, 100));
    expect(sink.removes).toEqual([]);
    expect(sink.snapshots).toHaveLength(before.snapshots);
    expect(sink.upserts).toHaveLength(1);
    expect(w.status.error).toMatch(/ECONNREFUSED/);
  });

  // Issue 15.2: a Consul restarted with its data answers with the same index; a blocking read on
  // it would only return when its wait ends (a minute), so readiness would lag that long.
  it('after an outage, reads the catalog non-blocking with the short recovery timeout: reachable again on an unchanged index', async () => {
    const { consul, sink, w } = setup({ waitSeconds: 600, backoffBaseSeconds: 0.01, backoffMaxSeconds: 0.02, recoveryTimeoutSeconds: 1.5, requestTimeoutSeconds: 9 });
    stop = () => w.stop();
    consul.catalog = { web: [] };
    consul.health['web'] = { entries: [inst('web-1')], index: 12 };
    await w.start();
    await until(() => sink.upserts.length === 1 && w.status.reachable);
    consul.down = true;
    consul.changed(); // the held blocking reads fail, as when the server goes away
    await until(() => !w.status.reachable);
    consul.down = false; // back with the same catalog index 10
    await until(() => w.status.reachable);
    const reads = consul.requests.map((r, i) => ({ r, t: consul.timeouts[i] })).filter((x) => x.r.startsWith('/v1/catalog/services'));
    const first = reads.findIndex((x, i) => i >= 1 && !x.r.endsWith('(refused)') && reads[i - 1].r.endsWith('(refused)'));
    // one refused read or more (the loop may retry before Consul is back): the timeout grows with them
    let refused = 0;
    while (reads[first - 1 - refused]?.r.endsWith('(refused)')) refused++;
    expect(reads[first]).toEqual({ r: '/v1/catalog/services', t: Math.min(9000, 1500 * refused) });
    expect(sink.upserts).toHaveLength(1);
    expect(sink.removes).toEqual([]);
  });

  it('sends an incomplete snapshot and no removal when ACLs filter the catalog', async () => {
    const { consul, sink, w } = setup();
    stop = () => w.stop();
    consul.catalog = { web: [], api: [] };
    await w.start();
    await until(() => sink.snapshots.length === 1);
    consul.catalog = {};
    consul.catalogFiltered = true;
    consul.catalogIndex = 30;
    consul.changed();
    await until(() => sink.snapshots.length === 2);
    expect(sink.snapshots[1]).toMatchObject({ complete: false, services: [] });
    expect(sink.removes).toEqual([]);
    expect(w.status).toMatchObject({ reachable: true, conditions: { aclFiltered: true } });
  });

  // Issue 15.3: a token that reads nodes but not services made the collector say only "Consul reachable".
  it('a filtered catalog is said once as a warning naming service:read, counted, and not ready while nothing is visible', async () => {
    const obs = new Observed();
    process.env['RB_SPEC_CONSUL_TOKEN'] = 'node-read-only';
    const { consul, sink, w } = setup({}, () => true, obs, { token: { env: 'RB_SPEC_CONSUL_TOKEN' } });
    stop = () => w.stop();
    consul.catalog = {};
    consul.catalogFiltered = true;
    await w.start();
    await until(() => sink.statuses.length > 0);
    consul.catalogIndex = 11; // a second filtered answer: no second warning
    consul.changed();
    await until(() => consul.requests.includes('/v1/catalog/services?index=11'));
    expect(obs.warnings).toEqual([expect.stringMatching(/lacks service:read on every service.*service_prefix "" \{ policy = "read" \}/)]);
    expect(obs.acl).toContainEqual(['catalog', 1]);
    expect(sourceReadiness(w.status, true)).toEqual({ ready: false, detail: expect.stringMatching(/service:read/) });
    // some services become readable: ready, with the warning as detail
    consul.catalog = { web: [] };
    consul.catalogIndex = 12;
    consul.changed();
    await until(() => w.status.conditions['services'] === 1);
    expect(sourceReadiness(w.status, true)).toEqual({ ready: true, detail: expect.stringMatching(/service:read/) });
    consul.catalogFiltered = false;
    consul.catalogIndex = 13;
    consul.changed();
    await until(() => !w.status.conditions['aclFiltered']);
    expect(obs.acl.at(-1)).toEqual(['catalog', 0]);
    expect(sourceReadiness(w.status, true)).toEqual({ ready: true });
  });

  it('instances hidden by ACLs (node:read missing) hold the record, warn naming node:read, and are counted until readable', async () => {
    const obs = new Observed();
    const { consul, sink, w } = setup({}, () => true, obs);
    stop = () => w.stop();
    consul.catalog = { web: [] };
    consul.health['web'] = { entries: [inst('web-1')], index: 12 };
    await w.start();
    await until(() => sink.upserts.length === 1);
    consul.healthFiltered.add('web');
    consul.health['web'] = { entries: [], index: 13 };
    consul.changed();
    await until(() => w.status.conditions['aclHiddenServices'] === 1);
    expect(obs.warnings).toEqual([expect.stringMatching(/Consul read failed.*hid instances of web.*node:read/)]);
    expect(obs.acl).toContainEqual(['health', 1]);
    expect(sink.upserts).toHaveLength(1);
    expect(sourceReadiness(w.status, true)).toEqual({ ready: true, detail: expect.stringMatching(/1 service\(s\).*node:read/) });
    consul.healthFiltered.delete('web');
    consul.health['web'] = { entries: [inst('web-1')], index: 14 };
    consul.changed();
    await until(() => w.status.conditions['aclHiddenServices'] === 0);
    expect(obs.acl.at(-1)).toEqual(['health', 0]);
  });

  // Issue 16.12: Connect users set the protocol in service-defaults / proxy-defaults, not in Meta.
  it('takes the protocol from service-defaults, else the global proxy-defaults, and re-sends a service when it changes', async () => {
    const { consul, sink, w } = setup();
    stop = () => w.stop();
    consul.catalog = { web: [], api: [] };
    consul.health['web'] = { entries: [inst('web-1')], index: 12 };
    consul.health['api'] = { entries: [{ ...inst('api-1'), Service: { ID: 'api-1', Service: 'api', Port: 81, Meta: { protocol: 'http2' } } }], index: 12 };
    consul.config['service-defaults'] = { body: [{ Kind: 'service-defaults', Name: 'web', Protocol: 'grpc' }, { Kind: 'service-defaults', Name: 'api', Protocol: 'tcp' }], index: 4 };
    await w.start();
    await until(() => sink.upserts.length === 2);
    const last = (svc: string) => sink.upserts.filter((u) => u.service === svc).at(-1);
    expect(last('web')?.ports).toEqual([{ name: 'grpc', number: 80, protocol: 'GRPC' }]);
    // the instance's own Meta.protocol wins
    expect(last('api')?.ports).toEqual([{ name: 'http2', number: 81, protocol: 'HTTP2' }]);

    consul.config['service-defaults'] = { body: [{ Kind: 'service-defaults', Name: 'web', Protocol: 'http' }], index: 5 };
    consul.changed();
    await until(() => last('web')?.ports[0].protocol === 'HTTP');
    expect(last('web')?.revision).toBeGreaterThan(12);

    consul.config['service-defaults'] = { body: [], index: 6 };
    consul.config['proxy-defaults'] = { body: [{ Kind: 'proxy-defaults', Name: 'global', Config: { protocol: 'http2' } }], index: 6 };
    consul.changed();
    await until(() => last('web')?.ports[0].protocol === 'HTTP2');
    // api's protocol did not change: nothing re-sent for it
    expect(sink.upserts.filter((u) => u.service === 'api')).toHaveLength(1);
  });

  it('config entries it may not read leave the source reachable and the protocol to Meta and defaultProtocol, said once', async () => {
    const obs = new Observed();
    const { consul, sink, w } = setup({}, () => true, obs);
    stop = () => w.stop();
    consul.config['service-defaults'] = 403;
    consul.catalog = { web: [] };
    consul.health['web'] = { entries: [inst('web-1')], index: 12 };
    await w.start();
    await until(() => sink.upserts.length === 1 && w.status.reachable);
    await until(() => consul.requests.filter((r) => r === '/v1/config/service-defaults').length >= 3);
    expect(sink.upserts[0].ports).toEqual([{ name: 'tcp', number: 80 }]);
    expect(obs.warnings.filter((m) => m.includes('service-defaults'))).toEqual([expect.stringMatching(/config entries not read.*403/)]);
  });

  // After the first record (catalog 500, service 480) the index steps back: a rebuilt Consul (new
  // cluster id) starts a new lineage; a stale read or restore of the same cluster keeps it, and the
  // revision still rises.
  it.each`
    case                          | trustDomain           | catalogIndex | healthIndex | lineage               | revision
    ${'Consul rebuilt'}           | ${'cccc-dddd.consul'} | ${7}         | ${6}        | ${'consul-cccc-dddd'} | ${6}
    ${'same cluster, stale read'} | ${'aaaa-bbbb.consul'} | ${495}       | ${470}      | ${'consul-aaaa-bbbb'} | ${481}
  `('index went backwards ($case): lineage $lineage, revision $revision', async ({ trustDomain, catalogIndex, healthIndex, lineage, revision }) => {
    const { consul, sink, w } = setup();
    stop = () => w.stop();
    consul.catalog = { web: [] };
    consul.catalogIndex = 500;
    consul.health['web'] = { entries: [inst('web-1')], index: 480 };
    await w.start();
    await until(() => sink.upserts.length === 1);
    consul.trustDomain = trustDomain;
    consul.catalogIndex = catalogIndex;
    consul.health['web'] = { entries: [inst('web-1', '10.0.0.2')], index: healthIndex };
    consul.changed();
    // The service watch may report the change before the catalog sees the rebuild: the last word counts.
    await until(() => sink.upserts.length >= 2 && sink.upserts.at(-1)?.lineage === lineage && sink.upserts.at(-1)?.endpoints[0].address === '10.0.0.2');
    expect(sink.upserts.at(-1)).toMatchObject({ lineage, revision });
    expect(w.currentLineage).toBe(lineage);
  });

  it('bounds blocking watches and covers the rest by health-state detection and round-robin polls', async () => {
    const { consul, sink, w } = setup({ maxBlockingWatches: 2 });
    stop = () => w.stop();
    const names = ['a', 'b', 'c', 'd', 'e'];
    consul.catalog = Object.fromEntries(names.map((n) => [n, []]));
    for (const n of names) consul.health[n] = { entries: [{ ...inst(`${n}-1`), Service: { ID: `${n}-1`, Service: n, Port: 80 } }], index: 12 };
    await w.start();
    await until(() => sink.upserts.length === 5);
    expect(w.status.conditions['blockingWatches']).toBe(2);
    const pooled = w.blockingPool();
    const outside = names.find((n) => !pooled.includes(n)) as string;
    consul.health[outside] = { entries: [{ ...inst(`${outside}-1`, '10.0.0.1', 'critical'), Service: { ID: `${outside}-1`, Service: outside, Port: 80 } }], index: 40 };
    consul.stateIndex = 41;
    consul.changed();
    await until(() => sink.upserts.some((u) => u.service === outside && u.revision === 40));
    // the changed service is promoted into the pool, the pool stays bounded
    await until(() => w.blockingPool().includes(outside));
    expect(w.blockingPool()).toHaveLength(2);
  });

  it('watches only owned services', async () => {
    const { consul, sink, w } = setup({}, (key) => key.endsWith('/a'));
    stop = () => w.stop();
    consul.catalog = { a: [], b: [] };
    await w.start();
    await until(() => sink.upserts.length === 1);
    await new Promise((r) => setTimeout(r, 50));
    expect(sink.upserts.map((u) => u.service)).toEqual(['a']);
    expect(consul.requests.some((r) => r.startsWith('/v1/health/service/b'))).toBe(false);
  });
});

describe('sourceReadiness', () => {
  const conditions = { aclFiltered: false, aclHiddenServices: 0, services: 3, blockingWatches: 3 };
  const base: SourceHealth = { reachable: true, conditions };
  it.each<[string, SourceHealth, boolean, { ready: boolean; detail?: string }]>([
    ['read recently', base, true, { ready: true }],
    ['not read within the grace', { ...base, reachable: false, error: 'connect ECONNREFUSED' }, false, { ready: false, detail: 'connect ECONNREFUSED' }],
    ['never read', { ...base, reachable: false }, false, { ready: false, detail: 'no successful read yet' }],
    ['catalog filtered, nothing visible', { ...base, conditions: { ...conditions, aclFiltered: true, services: 0 }, error: 'lacks service:read' }, true, { ready: false, detail: 'lacks service:read' }],
    ['catalog filtered, some visible', { ...base, conditions: { ...conditions, aclFiltered: true }, error: 'lacks service:read' }, true, { ready: true, detail: 'lacks service:read' }],
    ['instances hidden', { ...base, conditions: { ...conditions, aclHiddenServices: 2 } }, true, { ready: true, detail: expect.stringMatching(/^Consul hides the instances of 2 service\(s\).*node:read/) }],
  ])('%s', (_name, status, recent, expected) => {
    expect(sourceReadiness(status, recent)).toEqual(expected);
  });
});
