// Proof in the mesh itself, for Consul: the real Consul agent -> collector-consul -> Redis ->
// writer -> Kubernetes API server -> istiod, and then the question that matters: what does istiod
// serve a sidecar? Asked over ADS with a sidecar's node id (tools/xds-probe), cross-checked with
// istiod's own debug endpoints.
import { loadPeersEnv, PeersEnv } from '@registry-bridge/test-peers';
import { istiodDebug, IstiodEnv, loadIstiodEnv } from './support/istiod';
import { AppProcess, cleanUp, freePortBase, logsOnFailure, kubeApply, kubeList, meshNamespaces, requireBuilt, startApp, writerBase } from './support/pipeline';
import { addrs, clusterOf, mustCluster, mustEndpoint, untilXds, XdsView, XdsWatch } from './support/xds';

/** /debug/endpointShardz: host -> namespace -> shards by registry -> istiod's endpoint index. */
type EndpointShards = Record<string, Record<string, { Shards: Record<string, Array<{ Addresses: string[]; EndpointPort: number }>> }>>;
const shardAddrs = (s: EndpointShards, h: string, namespace: string): string[] =>
  Object.values(s[h]?.[namespace]?.Shards ?? {})
    .flat()
    .map((e) => `${e.Addresses[0]}:${e.EndpointPort}`)
    .sort();

jest.setTimeout(240000);

const id = Date.now().toString(36);
const ns = `rb-istio-consul-${id}`;
const probeNs = `rb-istio-probe-${id}`;
const prefix = `{rbistio-${id}}`;
const src = { inline: `consul-i-${id}`, we: `consul-w-${id}`, hijack: `consul-x-${id}` };
const name = (kind: 'i' | 'w' | 'x', svc: string) => `e2e${id}-${kind}-${svc}`;
const host = (kind: 'i' | 'w', svc: string) => `${name(kind, svc)}.service.consul`;
const match = [`e2e${id}-`];

const WEB = host('i', 'web');
const RPC = host('i', 'rpc');
const DB = host('i', 'db');
const TAKEN = host('i', 'taken');
const API = host('w', 'api');

describe('Consul -> registry-bridge -> istiod: what a sidecar receives', () => {
  let peers: PeersEnv;
  let istiod: IstiodEnv;
  let writer: AppProcess | undefined;
  let collector: AppProcess | undefined;
  let watch: XdsWatch | undefined;
  const registered: string[] = [];

  const consul = async (path: string, body?: unknown) => {
    const r = await fetch(`${peers.consul.addr}${path}`, { method: 'PUT', body: body === undefined ? undefined : JSON.stringify(body) });
    if (!r.ok) throw new Error(`${path}: ${r.status} ${await r.text()}`);
  };
  const register = async (svc: string, instance: string, address: string, port: number, opts: { protocol?: string; zone?: string; weight?: number; status?: string } = {}) => {
    const meta: Record<string, string> = {};
    if (opts.protocol) meta['protocol'] = opts.protocol;
    if (opts.zone) meta['zone'] = opts.zone;
    await consul('/v1/agent/service/register', {
      Name: svc,
      ID: `${svc}-${instance}`,
      Address: address,
      Port: port,
      Meta: meta,
      ...(opts.weight ? { Weights: { Passing: opts.weight, Warning: 1 } } : {}),
      Check: { CheckID: `check-${svc}-${instance}`, TTL: '600s', Status: opts.status ?? 'passing' },
    });
    registered.push(`${svc}-${instance}`);
  };
  const check = (svc: string, instance: string, state: 'pass' | 'fail') => consul(`/v1/agent/check/${state}/check-${svc}-${instance}`);
  const snapshot = (pred: (v: XdsView) => boolean, what: string, ms = 60000) => untilXds(istiod, { match, namespace: probeNs }, what, pred, ms);

  beforeAll(async () => {
    requireBuilt(['writer', 'collector-consul']);
    peers = await loadPeersEnv({ peers: ['consul', 'redis', 'kube'] });
    istiod = await loadIstiodEnv();
    await meshNamespaces(peers, ns, probeNs);
    // A ServiceEntry that someone else owns: registry-bridge must refuse to write the same host.
    await kubeApply(peers, {
      apiVersion: 'networking.istio.io/v1',
      kind: 'ServiceEntry',
      metadata: { name: 'hand-written-taken', namespace: ns },
      spec: { hosts: [TAKEN], location: 'MESH_INTERNAL', resolution: 'STATIC', ports: [{ name: 'tcp', number: 7000, protocol: 'TCP' }], endpoints: [{ address: '10.99.0.1' }] },
    });

    const base = freePortBase();
    writer = await startApp('writer', base, {
      ...writerBase(peers, `istio-e2e-${id}`, prefix, ns),
      sources: {
        [src.inline]: { kind: 'consul' },
        [src.we]: { kind: 'consul', endpointMode: 'workloadEntry' },
        // a registry entry trying to claim a host outside the allowed suffixes
        [src.hijack]: { kind: 'consul', hostTemplate: '{service}.example.com' },
      },
    });
    const consulSource = (n: string, kind: string) => ({
      name: n,
      address: peers.consul.addr,
      filters: { allow: [`e2e${id}-${kind}-*`] },
      normalize: { zoneMetaKey: 'zone' },
      watch: { waitSeconds: 10, snapshotIntervalSeconds: 5 },
    });
    collector = await startApp('collector-consul', base + 1, {
      redis: { url: peers.redisUrl, prefix },
      collector: { heartbeatSeconds: 2 },
      sources: [consulSource(src.inline, 'i'), consulSource(src.we, 'w'), consulSource(src.hijack, 'x')],
    });
    watch = new XdsWatch(istiod, { match, namespace: probeNs, pod: 'xds-watch' });
  });

  afterAll(async () => {
    await watch?.close();
    await collector?.stop();
    await writer?.stop();
    if (peers) {
      for (const s of registered) await consul(`/v1/agent/service/deregister/${s}`).catch(() => undefined);
      await cleanUp(peers, prefix, [ns, probeNs]);
    }
  });

  logsOnFailure(() => [writer, collector]);

  it('serves an outbound cluster per synced host and port, with the right protocol, and exactly the healthy instances', async () => {
    await register(name('i', 'web'), 'a', '10.41.0.1', 8080, { protocol: 'http', zone: 'zone-a', weight: 3 });
    await register(name('i', 'web'), 'b', '10.41.0.2', 8080, { protocol: 'http', zone: 'zone-b' });
    await register(name('i', 'web'), 'c', '10.41.0.3', 9090, { protocol: 'http', zone: 'zone-a' }); // its own port
    await register(name('i', 'web'), 'd', '10.41.0.4', 8080, { protocol: 'http', zone: 'zone-a', status: 'critical' });
    await register(name('i', 'rpc'), 'a', '10.41.1.1', 9000, { protocol: 'grpc' });
    await register(name('i', 'db'), 'a', '10.41.2.1', 5432); // no protocol: the writer's default, TCP
    await register(name('i', 'taken'), 'a', '10.41.3.1', 7000);
    await register(name('x', 'evil'), 'a', '10.43.0.1', 80, { protocol: 'http' });

    const v = await snapshot(
      (x) => addrs(clusterOf(x, WEB, 8080)).length === 3 && !!clusterOf(x, RPC, 9000)?.endpoints.length && !!clusterOf(x, DB, 5432)?.endpoints.length,
      'web, rpc and db',
    );
    const web = mustCluster(v, WEB, 8080);
    expect(web.type).toBe('EDS');
    expect(addrs(web)).toEqual(['10.41.0.1:8080', '10.41.0.2:8080', '10.41.0.3:9090']); // the critical one (d) is not there
    const ep = (a: string) => mustEndpoint(web, a);
    // locality: Consul datacenter / the zone meta
    expect([ep('10.41.0.1').region, ep('10.41.0.1').zone]).toEqual(['dc1', 'zone-a']);
    expect([ep('10.41.0.2').region, ep('10.41.0.2').zone]).toEqual(['dc1', 'zone-b']);
    // weight: Consul Weights.Passing; Istio serves 1 where the registry sets none
    expect(ep('10.41.0.1').weight).toBe(3);
    expect(ep('10.41.0.2').weight).toBe(1);
    // served as routable: Envoy's UNKNOWN is "no health checker says otherwise" (Istio's default)
    expect(web.endpoints.map((e) => e.health)).toEqual(['UNKNOWN', 'UNKNOWN', 'UNKNOWN']);

    // protocol: HTTP -> an HTTP route (RDS) for the host on its port, HTTP/1.1 upstream
    expect(web.protocol).toBe('default');
    expect((v.routes['8080'] ?? []).some((vh) => vh.domains.includes(WEB) && vh.clusters.includes(web.name))).toBe(true);
    // GRPC -> HTTP/2 upstream and an HTTP route
    const rpc = mustCluster(v, RPC, 9000);
    expect(rpc.protocol).toBe('http2');
    expect(addrs(rpc)).toEqual(['10.41.1.1:9000']);
    expect((v.routes['9000'] ?? []).some((vh) => vh.domains.includes(RPC))).toBe(true);
    // TCP -> no HTTP route at all, no HTTP/2
    const db = mustCluster(v, DB, 5432);
    expect(db.protocol).toBe('default');
    expect(addrs(db)).toEqual(['10.41.2.1:5432']);
    expect((v.routes['5432'] ?? []).some((vh) => vh.domains.includes(DB))).toBe(false);

    // the host someone else owns keeps their endpoint; the registry's instance never appears
    const taken = await snapshot((x) => !!clusterOf(x, TAKEN, 7000), 'the hand-written host');
    expect(addrs(clusterOf(taken, TAKEN, 7000))).toEqual(['10.99.0.1:7000']);
    // the hijacking host is refused: no cluster, no endpoint in anything the sidecar sees
    const all = await untilXds(istiod, { match: [], namespace: probeNs }, 'every cluster', () => true);
    expect(all.clusters.map((c) => c.host).sort()).toEqual([DB, RPC, TAKEN, WEB].sort());
    expect(all.clusters.filter((c) => c.host.includes(`e2e${id}-x-`) || c.host.endsWith('.example.com'))).toEqual([]);
    expect(all.clusters.flatMap((c) => c.endpoints).filter((e) => e.address === '10.43.0.1' || e.address === '10.41.3.1')).toEqual([]);

    // istiod's own view agrees: the config it holds and the endpoints it indexed
    const configz = await istiodDebug<Array<{ kind?: string; metadata: { name: string; namespace: string }; spec: { hosts?: string[] } }>>(istiod, '/debug/configz');
    const seHosts = configz.filter((c) => c.metadata.namespace === ns && c.spec.hosts).flatMap((c) => c.spec.hosts ?? []);
    expect(seHosts.sort()).toEqual([DB, RPC, TAKEN, WEB].sort());
    expect(configz.flatMap((c) => c.spec.hosts ?? []).filter((h) => h.startsWith(`e2e${id}-x-`) && h.endsWith('.example.com'))).toEqual([]);
    const shards = await istiodDebug<EndpointShards>(istiod, '/debug/endpointShardz');
    expect(shardAddrs(shards, WEB, ns)).toEqual(addrs(web));
    expect(shardAddrs(shards, RPC, ns)).toEqual(['10.41.1.1:9000']);
    expect(shardAddrs(shards, DB, ns)).toEqual(['10.41.2.1:5432']);
    expect(shardAddrs(shards, TAKEN, ns)).toEqual(['10.99.0.1:7000']);
    expect(Object.keys(shards).filter((h) => h.includes(`e2e${id}-x-`) && shards[h][ns])).toEqual([]);

    // the writer reported the refusals (it is its job, not istiod's, to keep them out)
    const ses = await kubeList(peers, 'serviceentries', ns);
    expect(ses.filter((s) => JSON.stringify(s.spec).includes('example.com'))).toEqual([]);
  });

  it('workloadEntry mode: the same cluster and endpoints, built from WorkloadEntries', async () => {
    await register(name('w', 'api'), 'a', '10.42.0.1', 8080, { protocol: 'http', zone: 'zone-a', weight: 2 });
    await register(name('w', 'api'), 'b', '10.42.0.2', 8081, { protocol: 'http', zone: 'zone-b' });
    await register(name('w', 'api'), 'c', '10.42.0.3', 8080, { protocol: 'http', status: 'critical' });
    const v = await snapshot((x) => addrs(clusterOf(x, API, 8080)).length === 2, 'api from WorkloadEntries');
    const api = mustCluster(v, API, 8080);
    expect(addrs(api)).toEqual(['10.42.0.1:8080', '10.42.0.2:8081']);
    const a = mustEndpoint(api, '10.42.0.1');
    expect([a.region, a.zone, a.weight]).toEqual(['dc1', 'zone-a', 2]);
    const b = mustEndpoint(api, '10.42.0.2');
    expect([b.region, b.zone, b.weight]).toEqual(['dc1', 'zone-b', 1]);
    expect((v.routes['8080'] ?? []).some((vh) => vh.domains.includes(API))).toBe(true);
    // these endpoints come from WorkloadEntry objects, not from the ServiceEntry's spec
    const wes = await kubeList(peers, 'workloadentries', ns);
    expect(wes.map((w) => (w.spec as { address: string }).address).sort()).toEqual(['10.42.0.1', '10.42.0.2']);
    const se = (await kubeList(peers, 'serviceentries', ns)).find((s) => (s.spec['hosts'] as string[]).includes(API));
    expect(se?.spec['workloadSelector']).toBeDefined();
    expect(se?.spec['endpoints']).toBeUndefined();
  });

  it('a health flip or a deregistration removes the endpoint from what istiod pushes to a connected sidecar', async () => {
    const w = watch;
    if (!w) throw new Error('no xDS watch');
    await w.until('web with 3 endpoints', (x) => addrs(clusterOf(x, WEB, 8080)).length === 3, 60000);

    let t = Date.now();
    await check(name('i', 'web'), 'b', 'fail');
    await w.until('web without b', (x) => JSON.stringify(addrs(clusterOf(x, WEB, 8080))) === JSON.stringify(['10.41.0.1:8080', '10.41.0.3:9090']), 60000, t);
    const tFail = Date.now() - t;

    t = Date.now();
    await consul(`/v1/agent/service/deregister/${name('i', 'web')}-c`);
    await w.until('web without c', (x) => JSON.stringify(addrs(clusterOf(x, WEB, 8080))) === JSON.stringify(['10.41.0.1:8080']), 60000, t);
    const tDereg = Date.now() - t;

    t = Date.now();
    await check(name('i', 'web'), 'd', 'pass'); // the other way: a recovered instance appears
    await w.until('web with d', (x) => JSON.stringify(addrs(clusterOf(x, WEB, 8080))) === JSON.stringify(['10.41.0.1:8080', '10.41.0.4:8080']), 60000, t);
    const tPass = Date.now() - t;

    t = Date.now();
    await check(name('w', 'api'), 'b', 'fail'); // workloadEntry mode
    await w.until('api without b', (x) => JSON.stringify(addrs(clusterOf(x, API, 8080))) === JSON.stringify(['10.42.0.1:8080']), 60000, t);
    const tWe = Date.now() - t;

    // every instance of a service unhealthy: the cluster stays (routes may point at it), empty
    await check(name('i', 'rpc'), 'a', 'fail');
    const empty = await w.until('rpc with no endpoint', (x) => clusterOf(x, RPC, 9000)?.endpoints.length === 0, 60000);
    expect(clusterOf(empty, RPC, 9000)?.protocol).toBe('http2');

    // the service gone from the registry: after the writer's grace period the cluster is gone too
    t = Date.now();
    await consul(`/v1/agent/service/deregister/${name('i', 'db')}-a`);
    await w.until('db cluster removed', (x) => !clusterOf(x, DB, 5432), 60000, t);
    const tGone = Date.now() - t;
    expect(tGone).toBeGreaterThanOrEqual(2000); // the writer's deletion grace period

    // a sidecar connecting now gets the same as the connected one was pushed
    const fresh = await snapshot(() => true, 'a fresh view');
    expect(addrs(clusterOf(fresh, WEB, 8080))).toEqual(['10.41.0.1:8080', '10.41.0.4:8080']);
    expect(addrs(clusterOf(fresh, API, 8080))).toEqual(['10.42.0.1:8080']);
    expect(clusterOf(fresh, DB, 5432)).toBeUndefined();
    process.stdout.write(
      `[measure] Consul change -> endpoint pushed by istiod: check fail ${tFail} ms, deregister ${tDereg} ms, check pass ${tPass} ms, workloadEntry check fail ${tWe} ms, service gone ${tGone} ms (grace 2 s)\n`,
    );
  });

  it('a refused host never appears, even on a connected sidecar over the whole run', async () => {
    const views = watch?.views ?? [];
    const leaked = views.flatMap((v) => v.clusters).filter((c) => c.host.includes(`e2e${id}-x-`) || c.endpoints.some((e) => ['10.43.0.1', '10.41.3.1'].includes(e.address)));
    expect(leaked).toEqual([]);
    expect(views.length).toBeGreaterThan(0);
  });
});
