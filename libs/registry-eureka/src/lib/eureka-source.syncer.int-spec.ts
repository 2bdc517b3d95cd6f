import { loadPeersEnv, type PeersEnv } from '@registry-bridge/test-peers';
import { Eureka } from 'eureka-js-client';
import { randomBytes } from 'node:crypto';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { EurekaRestClient } from './eureka-rest.client';
import type { RecordPort } from '@registry-bridge/source-kit';
import { EurekaSourceSyncer, type EurekaSyncHooks } from './eureka-source.syncer';

// Against the real Spring Cloud Netflix Eureka servers of `bash scripts/peers.sh up`:
// RB_EUREKA_URL (response cache off, self-preservation off, eviction every second) and
// RB_EUREKA_CACHED_URL (as shipped: 30 s read-only response cache, self-preservation on).

type Msg = { type: string; [k: string]: unknown };
interface Rec {
  service: string;
  revision: number;
  endpoints: { id: string; address: string; health: string; labels: Record<string, string>; ports: Record<string, number> }[];
}

const run = randomBytes(3).toString('hex');
const APP = (name: string) => `RBT-${run}-${name}`.toUpperCase();

/** Registers and drives instances through Eureka's REST API, as a Eureka client would. */
class Registrant {
  constructor(private readonly base: string) {}
  private async call(method: string, path: string, body?: unknown): Promise<number> {
    const res = await fetch(`${this.base}/apps/${path}`, {
      method,
      headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    await res.arrayBuffer();
    return res.status;
  }
  register(app: string, id: string, over: Record<string, unknown> = {}, durationInSecs = 90): Promise<number> {
    return this.call('POST', app, {
      instance: {
        instanceId: id,
        hostName: `${id}.test.local`,
        app,
        ipAddr: '10.1.2.3',
        status: 'UP',
        port: { $: 8080, '@enabled': 'true' },
        securePort: { $: 8443, '@enabled': 'false' },
        vipAddress: app.toLowerCase(),
        dataCenterInfo: { '@class': 'com.netflix.appinfo.InstanceInfo$DefaultDataCenterInfo', name: 'MyOwn' },
        leaseInfo: { renewalIntervalInSecs: 1, durationInSecs },
        metadata: { version: 'v1' },
        lastDirtyTimestamp: String(Date.now()),
        ...over,
      },
    });
  }
  heartbeat(app: string, id: string): Promise<number> {
    return this.call('PUT', `${app}/${id}`);
  }
  overrideStatus(app: string, id: string, value: string): Promise<number> {
    return this.call('PUT', `${app}/${id}/status?value=${value}`);
  }
  removeOverride(app: string, id: string): Promise<number> {
    return this.call('DELETE', `${app}/${id}/status?value=UP`);
  }
  metadata(app: string, id: string, kv: Record<string, string>): Promise<number> {
    return this.call('PUT', `${app}/${id}/metadata?${new URLSearchParams(kv)}`);
  }
  cancel(app: string, id: string): Promise<number> {
    return this.call('DELETE', `${app}/${id}`);
  }
}

class CollectingSink implements RecordPort {
  messages: Msg[] = [];
  async upsert(record: object) {
    this.messages.push({ type: 'upsert', record });
  }
  async remove(msg: object) {
    this.messages.push({ type: 'remove', ...msg });
  }
  async snapshot(msg: object) {
    this.messages.push({ type: 'snapshot', ...msg });
  }
  async sourceStatus(msg: object) {
    this.messages.push({ type: 'sourceStatus', ...msg });
  }
  upserts(service?: string): Rec[] {
    return this.messages.filter((m) => m.type === 'upsert').map((m) => m['record'] as Rec).filter((r) => !service || r.service === service);
  }
  last(service: string): Rec | undefined {
    return this.upserts(service).at(-1);
  }
}

describe('EurekaSourceSyncer against the real Eureka', () => {
  let peers: PeersEnv;
  let fast: Registrant;
  let cached: Registrant;
  const clients: EurekaRestClient[] = [];
  const cleanup: Array<() => Promise<unknown>> = [];

  beforeAll(async () => {
    peers = await loadPeersEnv({ peers: ['eureka', 'eurekaCached'] });
    fast = new Registrant(peers.eureka.url);
    cached = new Registrant(peers.eureka.cachedUrl);
  });
  afterAll(async () => {
    await Promise.allSettled(cleanup.map((c) => c()));
    clients.forEach((c) => c.close());
  });

  function syncerFor(name: string, urls: string[], hooks: EurekaSyncHooks = {}) {
    const sink = new CollectingSink();
    const client = new EurekaRestClient({ serviceUrls: urls, timeoutMs: 2000 });
    clients.push(client);
    const syncer = new EurekaSourceSyncer(client, sink, { source: name, apps: { include: [`rbt-${run}-*`] }, dashboardIntervalMs: 0, emptyHoldMs: 0 }, hooks);
    return { sink, syncer, client };
  }

  /** Polls (as the collector does, only faster) until the predicate holds; returns the elapsed ms. */
  async function until(syncer: EurekaSourceSyncer, predicate: () => boolean, timeoutMs = 15000, everyMs = 250): Promise<number> {
    const started = Date.now();
    for (;;) {
      await syncer.syncOnce();
      if (predicate()) return Date.now() - started;
      if (Date.now() - started > timeoutMs) throw new Error(`condition not met within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, everyMs));
    }
  }

  it('follows an app through register, heartbeat, DOWN, OUT_OF_SERVICE, metadata change and cancel', async () => {
    const app = APP('orders');
    const service = app.toLowerCase();
    const counts: Record<string, number> = {};
    const { sink, syncer } = syncerFor('eureka-fast', [peers.eureka.url], {
      deltaApplied: () => void (counts['delta'] = (counts['delta'] ?? 0) + 1),
      hashMismatch: () => void (counts['mismatch'] = (counts['mismatch'] ?? 0) + 1),
    });
    cleanup.push(() => fast.cancel(app, 'o1'), () => fast.cancel(app, 'o2'));

    // Start: a full fetch; nothing of ours yet, but a complete snapshot and a reachable status.
    expect(await syncer.syncOnce()).toMatchObject({ mode: 'full', snapshot: true });
    expect(sink.messages.find((m) => m.type === 'snapshot')).toMatchObject({ complete: true, services: [] });

    // Register (deltas from here on).
    expect(await fast.register(app, 'o1')).toBe(204);
    await until(syncer, () => sink.last(service)?.endpoints.length === 1);
    const first = sink.last(service) as Rec;
    expect(first.endpoints[0]).toMatchObject({ id: 'o1', address: '10.1.2.3', health: 'healthy', ports: { http: 8080 }, labels: { version: 'v1' } });

    // Heartbeats change nothing: no upsert.
    const before = sink.upserts(service).length;
    expect(await fast.heartbeat(app, 'o1')).toBe(200);
    await syncer.syncOnce();
    await syncer.syncOnce();
    expect(sink.upserts(service)).toHaveLength(before);

    // A second instance, then the instance itself goes DOWN (re-registers with status DOWN, as clients do).
    expect(await fast.register(app, 'o2', { ipAddr: '10.1.2.4' })).toBe(204);
    await until(syncer, () => sink.last(service)?.endpoints.length === 2);
    expect(await fast.register(app, 'o1', { status: 'DOWN' })).toBe(204);
    await until(syncer, () => sink.last(service)?.endpoints.find((e) => e.id === 'o1')?.health === 'unhealthy');

    // Operator takes o2 OUT_OF_SERVICE, then back.
    expect(await fast.overrideStatus(app, 'o2', 'OUT_OF_SERVICE')).toBe(200);
    await until(syncer, () => sink.last(service)?.endpoints.find((e) => e.id === 'o2')?.health === 'unhealthy');
    expect(await fast.removeOverride(app, 'o2')).toBe(200);
    await until(syncer, () => sink.last(service)?.endpoints.find((e) => e.id === 'o2')?.health === 'healthy');

    // Metadata change reaches the endpoint labels (and does not change apps__hashcode: content hash catches it).
    expect(await fast.metadata(app, 'o2', { version: 'v2' })).toBe(200);
    await until(syncer, () => sink.last(service)?.endpoints.find((e) => e.id === 'o2')?.labels['version'] === 'v2');

    // Cancel both: the last one removes the service, with a revision above every upsert.
    expect(await fast.cancel(app, 'o1')).toBe(200);
    await until(syncer, () => sink.last(service)?.endpoints.length === 1);
    expect(await fast.cancel(app, 'o2')).toBe(200);
    await until(syncer, () => sink.messages.some((m) => m.type === 'remove' && m['service'] === service));
    const remove = sink.messages.find((m) => m.type === 'remove' && m['service'] === service) as Msg;
    const revisions = sink.upserts(service).map((r) => r.revision);
    expect(revisions).toEqual([...revisions].sort((a, b) => a - b));
    expect(new Set(revisions).size).toBe(revisions.length);
    expect(remove['revision'] as number).toBeGreaterThan(Math.max(...revisions));

    expect(counts['delta']).toBeGreaterThan(5);
    expect(counts['mismatch'] ?? 0).toBe(0);
    expect(sink.messages.filter((m) => m.type === 'sourceStatus').every((m) => m['reachable'] === true)).toBe(true);
  });

  it('registers and heartbeats with the stock eureka-js-client, and sees its lease expire when heartbeats stop', async () => {
    const app = APP('jsclient');
    const service = app.toLowerCase();
    const url = new URL(peers.eureka.url);
    const quiet = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };
    const js = new Eureka({
      logger: quiet,
      instance: {
        app,
        instanceId: `${service}-1`,
        hostName: 'js-1.test.local',
        ipAddr: '10.9.9.9',
        statusPageUrl: 'http://js-1.test.local:7000/info',
        port: { $: 7000, '@enabled': 'true' },
        vipAddress: service,
        dataCenterInfo: { '@class': 'com.netflix.appinfo.AmazonInfo', name: 'Amazon', metadata: { 'availability-zone': 'eu-west-1b' } },
        leaseInfo: { renewalIntervalInSecs: 1, durationInSecs: 2 },
      },
      eureka: { host: url.hostname, port: Number(url.port), servicePath: `${url.pathname}/apps/`, fetchRegistry: false, fetchMetadata: false, heartbeatInterval: 500, maxRetries: 0 },
    });
    const { sink, syncer } = syncerFor('eureka-js', [peers.eureka.url]);
    await new Promise<void>((resolve, reject) => js.start((err) => (err ? reject(err) : resolve())));
    cleanup.push(() => new Promise<void>((r) => js.stop(() => r())));

    await until(syncer, () => sink.last(service)?.endpoints.length === 1);
    expect(sink.last(service)?.endpoints[0]).toMatchObject({ address: '10.9.9.9', health: 'healthy', ports: { http: 7000 }, locality: 'eu-west-1/eu-west-1b' });
    // Heartbeats keep it alive well past its 2 s lease.
    await new Promise((r) => setTimeout(r, 5000));
    await syncer.syncOnce();
    expect(sink.messages.some((m) => m.type === 'remove')).toBe(false);

    // Stop heartbeating without deregistering (a crashed process): the server evicts it.
    clearInterval(js.heartbeat);
    const elapsed = await until(syncer, () => sink.messages.some((m) => m.type === 'remove' && m['service'] === service), 30000, 500);
    console.log(`lease expiry (duration 2 s, eviction every ${peers.raw['RB_EUREKA_EVICTION_MS'] ?? '?'} ms) seen after ${elapsed} ms`);
  });

  it('keeps two clusters apart as two sources', async () => {
    const appA = APP('two-a');
    const appB = APP('two-b');
    cleanup.push(() => fast.cancel(appA, 'a1'), () => cached.cancel(appB, 'b1'));
    const a = syncerFor('cluster-a', [peers.eureka.url]);
    const b = syncerFor('cluster-b', [peers.eureka.cachedUrl]);
    await fast.register(appA, 'a1');
    await cached.register(appB, 'b1');
    // The cached server serves a 30 s old view: wait for it.
    await until(a.syncer, () => a.sink.upserts(appA.toLowerCase()).length === 1);
    await until(b.syncer, () => b.sink.upserts(appB.toLowerCase()).length === 1, 45000, 1000);
    const sources = (s: CollectingSink) => new Set(s.messages.map((m) => ((m['record'] as { source?: { name: string } })?.source ?? m['source']) as { name: string }).map((x) => x.name));
    expect(sources(a.sink)).toEqual(new Set(['cluster-a']));
    expect(sources(b.sink)).toEqual(new Set(['cluster-b']));
    expect(a.sink.upserts(appB.toLowerCase())).toHaveLength(0);
    expect(b.sink.upserts(appA.toLowerCase())).toHaveLength(0);
  });

  it('fails over from a server URL that is down to the next one', async () => {
    const app = APP('failover');
    cleanup.push(() => fast.cancel(app, 'f1'));
    await fast.register(app, 'f1');
    const { sink, syncer, client } = syncerFor('eureka-failover', ['http://127.0.0.1:9/eureka', peers.eureka.url]);
    expect(await syncer.syncOnce()).toMatchObject({ mode: 'full' });
    expect(sink.last(app.toLowerCase())?.endpoints).toHaveLength(1);
    expect(client.activeServer).toBe(peers.eureka.url);
    const status = sink.messages.find((m) => m.type === 'sourceStatus') as Msg;
    expect(status).toMatchObject({ reachable: true, conditions: { server: peers.eureka.url } });
  });

  it('after failing over mid-run to a server with another registry, the hash check forces a full fetch', async () => {
    // A forwarding shim in front of the fast server, so that server can "die" mid-run.
    const target = new URL(peers.eureka.url);
    const shim: Server = createServer((req, res) => {
      const up = request({ host: target.hostname, port: target.port, path: req.url, method: req.method, headers: req.headers }, (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
      });
      up.on('error', () => res.writeHead(502).end());
      req.pipe(up);
    });
    await new Promise<void>((r) => shim.listen(0, '127.0.0.1', r));
    const shimUrl = `http://127.0.0.1:${(shim.address() as AddressInfo).port}${target.pathname}`;
    const appA = APP('only-fast');
    const appB = APP('only-cached');
    cleanup.push(() => fast.cancel(appA, 'a1'), () => cached.cancel(appB, 'b1'), () => cached.cancel(appB, 'b2'));
    await fast.register(appA, 'a1');
    await cached.register(appB, 'b1');
    await cached.register(appB, 'b2');
    const reasons: string[] = [];
    let mismatches = 0;
    const { sink, syncer, client } = syncerFor('eureka-switch', [shimUrl, peers.eureka.cachedUrl], {
      fullFetch: (reason) => void reasons.push(reason),
      hashMismatch: () => void mismatches++,
    });
    await until(syncer, () => sink.last(appA.toLowerCase())?.endpoints.length === 1);
    shim.closeAllConnections();
    await new Promise<void>((r) => shim.close(() => r()));

    // The next delta comes from the other server, whose registry never had appA: hashes disagree.
    await until(syncer, () => sink.messages.some((m) => m.type === 'remove' && m['service'] === appA.toLowerCase()) && sink.last(appB.toLowerCase())?.endpoints.length === 2, 45000, 1000);
    expect(client.activeServer).toBe(peers.eureka.cachedUrl);
    expect(mismatches).toBeGreaterThanOrEqual(1);
    expect(reasons).toContain('hash_mismatch');
  });

  it('reports a cluster whose servers are all down as unreachable, and nothing else', async () => {
    const { sink, syncer } = syncerFor('eureka-down', ['http://127.0.0.1:9/eureka', 'http://127.0.0.1:10/eureka']);
    expect(await syncer.syncOnce()).toBeUndefined();
    expect(sink.messages).toEqual([expect.objectContaining({ type: 'sourceStatus', reachable: false })]);
  });

  it('reads self-preservation from both servers', async () => {
    const f = syncerFor('sp-fast', [peers.eureka.url]);
    const c = syncerFor('sp-cached', [peers.eureka.cachedUrl]);
    await f.syncer.syncOnce();
    await c.syncer.syncOnce();
    // The fast server runs with self-preservation off; the cached one as shipped (on).
    expect(f.syncer.selfPreservationState).toMatchObject({ enabled: false, active: false });
    expect(c.syncer.selfPreservationState).toMatchObject({ enabled: true });
    const status = c.sink.messages.find((m) => m.type === 'sourceStatus') as Msg;
    expect(status['conditions']).toMatchObject({ selfPreservationEnabled: true, selfPreservation: c.syncer.selfPreservationState?.active });
  });
});
