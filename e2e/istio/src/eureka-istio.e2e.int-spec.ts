// Proof in the mesh itself, for Eureka: the real Eureka server -> collector-eureka -> Redis ->
// writer -> API server -> istiod, read back over ADS as a sidecar would (tools/xds-probe).
import { loadPeersEnv, PeersEnv } from '@registry-bridge/test-peers';
import { istiodDebug, IstiodEnv, loadIstiodEnv } from './support/istiod';
import { AppProcess, cleanUp, freePortBase, logsOnFailure, meshNamespaces, requireBuilt, startApp, writerBase } from './support/pipeline';
import { addrs, clusterOf, mustCluster, mustEndpoint, untilXds, XdsWatch } from './support/xds';

jest.setTimeout(240000);

const id = Date.now().toString(36);
const ns = `rb-istio-eureka-${id}`;
const probeNs = `rb-istio-eprobe-${id}`;
const prefix = `{rbistioeu-${id}}`;
const src = { inline: `eureka-i-${id}`, we: `eureka-w-${id}` };
const APP = `E2E${id.toUpperCase()}-I-ORDERS`;
const WE_APP = `E2E${id.toUpperCase()}-W-PAYMENTS`;
const HOST = `${APP.toLowerCase()}.eureka`;
const WE_HOST = `${WE_APP.toLowerCase()}.eureka`;
const match = [`e2e${id}-`];

describe('Eureka -> registry-bridge -> istiod: what a sidecar receives', () => {
  let peers: PeersEnv;
  let istiod: IstiodEnv;
  let writer: AppProcess | undefined;
  let collector: AppProcess | undefined;
  let watch: XdsWatch | undefined;
  const registered: Array<[string, string]> = [];

  const eureka = async (method: string, path: string, body?: unknown) => {
    const r = await fetch(`${peers.eureka.url}/apps/${path}`, {
      method,
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!r.ok) throw new Error(`eureka ${method} ${path}: ${r.status} ${await r.text()}`);
  };
  const register = async (app: string, instanceId: string, ip: string, port: number, zone: string, status = 'UP') => {
    await eureka('POST', app, {
      instance: {
        instanceId,
        hostName: `${instanceId}.example.internal`,
        app,
        ipAddr: ip,
        status,
        vipAddress: app.toLowerCase(),
        port: { $: port, '@enabled': 'true' },
        securePort: { $: 8443, '@enabled': 'false' },
        dataCenterInfo: { '@class': 'com.netflix.appinfo.AmazonInfo', name: 'Amazon', metadata: { 'availability-zone': zone } },
        leaseInfo: { durationInSecs: 3600, renewalIntervalInSecs: 30 },
        metadata: {},
      },
    });
    registered.push([app, instanceId]);
  };
  const setStatus = (app: string, instanceId: string, status: string) => eureka('PUT', `${app}/${instanceId}/status?value=${status}`);

  beforeAll(async () => {
    requireBuilt(['writer', 'collector-eureka']);
    peers = await loadPeersEnv({ peers: ['eureka', 'redis', 'kube'] });
    istiod = await loadIstiodEnv();
    await meshNamespaces(peers, ns, probeNs);
    const base = freePortBase();
    writer = await startApp('writer', base, {
      ...writerBase(peers, `istio-e2e-eu-${id}`, prefix, ns),
      sources: { [src.inline]: { kind: 'eureka' }, [src.we]: { kind: 'eureka', endpointMode: 'workloadEntry' } },
    });
    const source = (name: string, app: string) => ({ name, serviceUrls: [peers.eureka.url], pollIntervalSeconds: 1, apps: { allow: [app] } });
    collector = await startApp('collector-eureka', base + 1, {
      redis: { url: peers.redisUrl, prefix },
      collector: { heartbeatSeconds: 2 },
      sources: [source(src.inline, APP), source(src.we, WE_APP)],
    });
    watch = new XdsWatch(istiod, { match, namespace: probeNs, pod: 'xds-watch' });
  });

  afterAll(async () => {
    await watch?.close();
    await collector?.stop();
    await writer?.stop();
    if (peers) {
      for (const [app, i] of registered) await eureka('DELETE', `${app}/${i}`).catch(() => undefined);
      await cleanUp(peers, prefix, [ns, probeNs]);
    }
  });

  logsOnFailure(() => [writer, collector]);

  it('serves the app as an HTTP cluster whose endpoints are exactly the UP instances, with their zones', async () => {
    await register(APP, 'o1', '10.51.0.1', 8080, 'us-east-1a');
    await register(APP, 'o2', '10.51.0.2', 8080, 'us-east-1b');
    await register(APP, 'o3', '10.51.0.3', 8080, 'us-east-1a', 'DOWN');
    await register(WE_APP, 'p1', '10.52.0.1', 9080, 'eu-west-1a');
    await register(WE_APP, 'p2', '10.52.0.2', 9080, 'eu-west-1b');
    const v = await untilXds(istiod, { match, namespace: probeNs }, 'both apps', (x) => addrs(clusterOf(x, HOST, 8080)).length === 2 && addrs(clusterOf(x, WE_HOST, 9080)).length === 2, 60000);
    const orders = mustCluster(v, HOST, 8080);
    expect(addrs(orders)).toEqual(['10.51.0.1:8080', '10.51.0.2:8080']);
    expect([mustEndpoint(orders, '10.51.0.1').region, mustEndpoint(orders, '10.51.0.1').zone]).toEqual(['us-east-1', 'us-east-1a']);
    expect([mustEndpoint(orders, '10.51.0.2').region, mustEndpoint(orders, '10.51.0.2').zone]).toEqual(['us-east-1', 'us-east-1b']);
    expect(orders.endpoints.map((e) => e.weight)).toEqual([1, 1]); // Eureka has no weights
    expect(orders.protocol).toBe('default');
    expect((v.routes['8080'] ?? []).some((vh) => vh.domains.includes(HOST) && vh.clusters.includes(orders.name))).toBe(true);
    // workloadEntry mode: the same, from WorkloadEntries
    const pay = mustCluster(v, WE_HOST, 9080);
    expect(addrs(pay)).toEqual(['10.52.0.1:9080', '10.52.0.2:9080']);
    expect([mustEndpoint(pay, '10.52.0.2').region, mustEndpoint(pay, '10.52.0.2').zone]).toEqual(['eu-west-1', 'eu-west-1b']);
    const configz = await istiodDebug<Array<{ kind: string; metadata: { namespace: string } }>>(istiod, '/debug/configz');
    expect(configz.filter((c) => c.metadata.namespace === ns && c.kind === 'WorkloadEntry')).toHaveLength(2);
  });

  it('an instance going DOWN, or cancelled, leaves what istiod pushes; UP brings it back', async () => {
    const w = watch;
    if (!w) throw new Error('no xDS watch');
    await w.until('orders with 2', (x) => addrs(clusterOf(x, HOST, 8080)).length === 2, 60000);
    let t = Date.now();
    await setStatus(APP, 'o2', 'DOWN');
    await w.until('o2 gone', (x) => JSON.stringify(addrs(clusterOf(x, HOST, 8080))) === JSON.stringify(['10.51.0.1:8080']), 60000, t);
    const tDown = Date.now() - t;
    t = Date.now();
    await setStatus(APP, 'o3', 'UP');
    await w.until('o3 back', (x) => JSON.stringify(addrs(clusterOf(x, HOST, 8080))) === JSON.stringify(['10.51.0.1:8080', '10.51.0.3:8080']), 60000, t);
    const tUp = Date.now() - t;
    t = Date.now();
    await eureka('DELETE', `${WE_APP}/p1`);
    await w.until('p1 gone', (x) => JSON.stringify(addrs(clusterOf(x, WE_HOST, 9080))) === JSON.stringify(['10.52.0.2:9080']), 60000, t);
    const tCancel = Date.now() - t;
    process.stdout.write(`[measure] Eureka change -> endpoint pushed by istiod (poll 1 s): DOWN ${tDown} ms, UP ${tUp} ms, cancel (workloadEntry) ${tCancel} ms\n`);
  });
});
