// Correct in a real mesh, per registry and in both endpoint modes: the listeners a sidecar with
// DNS capture gets (tools/xds-probe asks LDS as pilot-agent's Envoy does), the transport socket
// each endpoint gets under auto mTLS, and requests through a real xDS data plane: gRPC-Go's
// proxyless client (tools/xds-grpc) resolving the synced host through istiod and calling gRPC echo
// servers registered in the registry. Registry -> collector -> Redis -> writer -> API server ->
// istiod -> data plane, all real, on this machine.
import { loadPeersEnv, PeersEnv } from '@registry-bridge/test-peers';
import { answered, CallBatch, EchoServer, GrpcXdsClient } from './support/grpc';
import { istiodDebug, IstiodEnv, loadIstiodEnv } from './support/istiod';
import { AppProcess, cleanUp, freePortBase, kubeList, logsOnFailure, meshNamespaces, requireBuilt, startApp, until, writerBase } from './support/pipeline';
import { cloudMapDriver, consulDriver, eurekaDriver, Instance, RegistryDriver } from './support/registries';
import { addrs, clusterOf, httpListenersFor, mustCluster, tcpListenersTo, untilXds, XdsView } from './support/xds';

jest.setTimeout(240000);

const run = Date.now().toString(36);
const MODES = [
  { tag: 'i', endpointMode: 'inline' },
  { tag: 'w', endpointMode: 'workloadEntry' },
] as const;
// sources whose instances run sidecars, one per mode: a second pipeline (see the mTLS test)
const SIDECAR_MODES = [
  { tag: 's', endpointMode: 'inline' },
  { tag: 't', endpointMode: 'workloadEntry' },
] as const;
const TCP_PORT = 5432;
const HTTP_PORT = 8080;
const ECHOES = ['e1', 'e2', 'e3', 'e4']; // e4 is registered unhealthy and must never answer

const registries: Array<[string, (id: string) => RegistryDriver]> = [
  ['Consul', (id) => consulDriver(id)],
  ['Eureka', (id) => eurekaDriver(id)],
  ['Cloud Map', (id) => cloudMapDriver(id, [...MODES, ...SIDECAR_MODES].map((m) => m.tag))],
];

describe.each(registries)('%s -> registry-bridge -> istiod: listeners, transport sockets, and requests through a real xDS data plane', (label, make) => {
  const id = `${run}${label[0].toLowerCase()}`;
  const d = make(id);
  const ns = `rb-mesh-${d.kind}-${id}`;
  const probeNs = `rb-meshp-${d.kind}-${id}`;
  const prefix = `{rbmesh-${id}}`;
  const sidecarPrefix = `{rbmeshsc-${id}}`;
  const src = (tag: string) => `${d.kind}-${tag}-${id}`;
  const echoId = (tag: string, e: string) => `${tag}-${e}`;
  let peers: PeersEnv;
  let istiod: IstiodEnv;
  let base = 0;
  const apps: AppProcess[] = [];
  const echoes: EchoServer[] = [];
  const clients: GrpcXdsClient[] = [];
  const snapshot = (what: string, pred: (v: XdsView) => boolean) => untilXds(istiod, { match: [d.match], namespace: probeNs }, what, pred, 60000);
  const fakeInstance = (i: string, address: string, port: number, protocol: Instance['protocol']): Instance => ({ id: i, address, port, protocol, healthy: true });

  beforeAll(async () => {
    requireBuilt(['writer', d.collector]);
    peers = await loadPeersEnv({ peers: [...d.peerNames, 'redis', 'kube'] });
    istiod = await loadIstiodEnv();
    await d.init(peers);
    await meshNamespaces(peers, ns, probeNs);
    base = freePortBase();
    // A service account on every source: Istio reads an endpoint with one and no tlsMode label as
    // carrying a sidecar; these instances carry none.
    apps.push(
      await startApp('writer', base, {
        ...writerBase(peers, `mesh-e2e-${id}`, prefix, ns),
        sources: Object.fromEntries(MODES.map((m) => [src(m.tag), { kind: d.kind, endpointMode: m.endpointMode, serviceAccount: 'legacy-vm' }])),
      }),
    );
    const c = d.collectorSetup(peers, prefix, MODES.map((m) => ({ name: src(m.tag), tag: m.tag })));
    apps.push(await startApp(d.collector, base + 1, c.config, c.env));

    const address = istiod.echoAddress;
    for (const [n, m] of MODES.entries()) {
      // two TCP services on one port, and an HTTP service: addresses nothing listens on (istiod only)
      await d.register(m.tag, 'tcp-a', fakeInstance('a1', `10.61.${n}.1`, TCP_PORT, 'tcp'));
      await d.register(m.tag, 'tcp-b', fakeInstance('b1', `10.61.${n}.2`, TCP_PORT, 'tcp'));
      await d.register(m.tag, 'web', fakeInstance('w1', `10.62.${n}.1`, HTTP_PORT, 'http'));
      // a service known by host name whose only instance is unhealthy
      await d.register(m.tag, 'dns', { ...fakeInstance('d1', `dns-${m.tag}.example.internal`, HTTP_PORT, 'http'), healthy: false });
      // gRPC echo servers: real processes behind the instances, e1 on the lowest port (the
      // service's port while e1 is registered; see EchoServer.startAscending)
      const servers = await EchoServer.startAscending(istiod, ECHOES.map((e) => echoId(m.tag, e)));
      echoes.push(...servers);
      for (const [k, e] of ECHOES.entries()) await d.register(m.tag, 'echo', { id: e, address, port: servers[k].port, protocol: 'grpc', healthy: e !== 'e4' });
    }
  });

  afterAll(async () => {
    for (const c of clients) await c.close();
    for (const a of apps) await a.stop();
    for (const e of echoes) await e.stop();
    await d.cleanup();
    if (peers) {
      await cleanUp(peers, sidecarPrefix, []);
      await cleanUp(peers, prefix, [ns, probeNs]);
    }
  });

  logsOnFailure(() => apps);

  describe.each(MODES)('$endpointMode', ({ tag }) => {
    const TCP_A = d.host(tag, 'tcp-a');
    const TCP_B = d.host(tag, 'tcp-b');
    const WEB = d.host(tag, 'web');
    const ECHO = d.host(tag, 'echo');

    it('two TCP services on one port get a listener each, on the address istiod allocated to each', async () => {
      const a = `outbound|${TCP_PORT}||${TCP_A}`;
      const b = `outbound|${TCP_PORT}||${TCP_B}`;
      // istiod first pushes both on the shared 0.0.0.0 listener and moves them to their own
      // addresses once its allocation is in the ServiceEntries' status: wait for that push.
      const own = (x: Parameters<typeof tcpListenersTo>[0], c: string) => tcpListenersTo(x, c).filter((l) => l.address !== '0.0.0.0');
      const v = await snapshot('a TCP listener of its own for each of two services on one port', (x) => own(x, a).length > 0 && own(x, b).length > 0);
      // istiod's allocation (PILOT_ENABLE_IP_AUTOALLOCATE, on by default in the 1.31 run here) is
      // in the ServiceEntry's status, which the writer neither sets nor reverts; istiod puts it on a
      // proxy's listeners only when the proxy announces DNS capture, as xds-probe does
      const ses = await kubeList<{ spec: { hosts: string[] }; status?: { addresses?: Array<{ host: string; value: string }> } }>(peers, 'serviceentries', ns);
      const allocated = (h: string) => ses.flatMap((s) => s.status?.addresses ?? []).filter((x) => x.host === h).map((x) => x.value);
      const [la, lb] = [tcpListenersTo(v, a), tcpListenersTo(v, b)];
      expect(la).toHaveLength(1);
      expect(lb).toHaveLength(1);
      expect([la[0].port, lb[0].port]).toEqual([TCP_PORT, TCP_PORT]);
      // not the shared 0.0.0.0:<port> listener, where Istio keeps one service and drops the other
      expect(la[0].address).not.toBe('0.0.0.0');
      expect(lb[0].address).not.toBe('0.0.0.0');
      expect(la[0].address).not.toBe(lb[0].address);
      expect(allocated(TCP_A)).toContain(la[0].address);
      expect(allocated(TCP_B)).toContain(lb[0].address);
    });

    it('an HTTP service gets its route: a listener on its port whose RDS route has a virtual host for the host', async () => {
      const v = await snapshot('the HTTP service with its route', (x) => !!clusterOf(x, WEB, HTTP_PORT)?.endpoints.length && (x.routes[String(HTTP_PORT)] ?? []).some((vh) => vh.domains.includes(WEB)));
      const web = mustCluster(v, WEB, HTTP_PORT);
      const vh = (v.routes[String(HTTP_PORT)] ?? []).filter((x) => x.domains.includes(WEB));
      expect(vh).toHaveLength(1);
      expect(vh[0].clusters).toEqual([web.name]);
      const ls = httpListenersFor(v, String(HTTP_PORT));
      expect(ls.map((l) => [l.address, l.port])).toEqual([['0.0.0.0', HTTP_PORT]]);
      expect(tcpListenersTo(v, web.name)).toEqual([]);
    });

    it('an endpoint without a sidecar gets the plaintext transport socket match (tlsMode disabled), though it has a service account', async () => {
      const v = await snapshot('the HTTP service', (x) => !!clusterOf(x, WEB, HTTP_PORT)?.endpoints.length);
      const web = mustCluster(v, WEB, HTTP_PORT);
      // auto mTLS is on: the cluster can speak either, per endpoint
      expect(web.transportSocketMatches?.find((m) => m.match['tlsMode'] === 'istio')?.transport).toBe('mtls');
      expect(web.endpoints.map((e) => [e.address, e.tlsMode ?? 'none', e.transport])).toEqual([[web.endpoints[0].address, 'none', 'plaintext']]);
    });

    it('a service whose instances are all unhealthy gets no endpoint, not even a DNS lookup of its own host', async () => {
      const DNS = d.host(tag, 'dns');
      // its ServiceEntry is written (routes may point at it), and istiod holds it
      await until('istiod to hold the ServiceEntry of the unhealthy service', async () =>
        (await istiodDebug<Array<{ metadata: { namespace: string }; spec: { hosts?: string[] } }>>(istiod, '/debug/configz')).some(
          (c) => c.metadata.namespace === ns && !!c.spec.hosts?.includes(DNS),
        ),
      );
      // istiod pushes within its debounce; the service's sibling on the same source is the marker
      const v = await snapshot('the HTTP service of the same source', (x) => !!clusterOf(x, WEB, HTTP_PORT)?.endpoints.length);
      // a DNS cluster with no endpoints makes Envoy resolve the host itself: nothing may be there
      expect(addrs(clusterOf(v, DNS, HTTP_PORT))).toEqual([]);
      expect(v.clusters.flatMap((c) => c.endpoints).filter((e) => e.address === DNS)).toEqual([]);
    });

    it('gRPC calls through istiod land only on healthy instances, spread across them, move within seconds when one turns unhealthy or is deregistered, and fail when none is healthy', async () => {
      const v = await snapshot('the gRPC echo service with its 3 healthy instances', (x) => x.clusters.filter((c) => c.host === ECHO).some((c) => c.endpoints.length === 3));
      const echo = v.clusters.filter((c) => c.host === ECHO);
      expect(echo).toHaveLength(1);
      expect(echo[0].protocol).toBe('http2'); // GRPC from the registry's metadata
      expect(echo[0].port).toBe(echoes.find((e) => e.id === echoId(tag, 'e1'))?.port);
      const client = new GrpcXdsClient(istiod, `xds:///${ECHO}:${echo[0].port}`, probeNs, `grpc-${tag}`);
      clients.push(client);
      const [e1, e2, e3, e4] = ECHOES.map((e) => echoId(tag, e));
      // a batch that every one of `ids` answered, no other instance, and no call failed
      const only = (ids: string[]) => (b: CallBatch) => JSON.stringify(answered(b)) === JSON.stringify([...ids].sort()) && Object.keys(b.errors).length === 0;

      // resolved through istiod: every healthy instance answers, the unhealthy one never
      // small batches until then: a call made before the channel has resolved waits out its deadline
      const first = await client.until('reach the three healthy instances', 9, only([e1, e2, e3]), 60000);
      const spread = await client.calls(60);
      expect(spread.errors).toEqual({});
      expect(answered(spread)).toEqual([e1, e2, e3]);
      expect(spread.servers[e4]).toBeUndefined();

      await d.setHealthy(tag, 'echo', 'e2', false);
      const unhealthy = await client.until(`leave ${e2} once it is unhealthy`, 10, only([e1, e3]));
      const after = await client.calls(30);
      expect(answered(after)).toEqual([e1, e3]);
      expect(after.errors).toEqual({});

      let gone: { tookMs: number } | undefined;
      if (d.deregistrationVisible) {
        await d.deregister(tag, 'echo', 'e3');
        gone = await client.until(`leave ${e3} once it is deregistered`, 10, only([e1]));
        expect(answered(await client.calls(20))).toEqual([e1]);
      }

      await d.setHealthy(tag, 'echo', 'e2', true);
      const back = await client.until(`reach ${e2} again once it is healthy`, 10, only(d.deregistrationVisible ? [e1, e2] : [e1, e2, e3]));
      expect(back.batch.servers[e4]).toBeUndefined();

      // every instance unhealthy: no endpoints means no traffic, not a fallback to anything
      const left = d.deregistrationVisible ? ['e1', 'e2'] : ['e1', 'e2', 'e3'];
      for (const e of left) await d.setHealthy(tag, 'echo', e, false);
      const none = await client.until('fail once no instance is healthy', 3, (b) => answered(b).length === 0);
      expect(Object.values(none.batch.errors).reduce((x, y) => x + y, 0)).toBe(3);
      process.stdout.write(
        `[measure] ${label} ${tag}: gRPC via istiod: first answers ${first.tookMs} ms after connect; registry change -> calls moved: unhealthy ${unhealthy.tookMs} ms` +
          `${gone ? `, deregistered ${gone.tookMs} ms` : ''}, healthy again ${back.tookMs} ms, none healthy ${none.tookMs} ms (batches of 10 calls, 3 for the last)\n`,
      );
    });
  });

  it('endpoints of a source whose instances run sidecars (sidecars: true) get mTLS, in both modes', async () => {
    // Its own pipeline (writer and collector on their own Redis prefix, same namespace), so the
    // sources above run whatever this writer's config accepts.
    apps.push(
      await startApp('writer', base + 2, {
        ...writerBase(peers, `mesh-e2e-sc-${id}`, sidecarPrefix, ns),
        leaderElection: { namespace: ns, leaseName: 'writer-sidecars', leaseDurationSeconds: 6, renewDeadlineSeconds: 4, retryPeriodSeconds: 1 },
        sources: Object.fromEntries(SIDECAR_MODES.map((m) => [src(m.tag), { kind: d.kind, endpointMode: m.endpointMode, serviceAccount: 'mesh-app', sidecars: true }])),
      }),
    );
    const c = d.collectorSetup(peers, sidecarPrefix, SIDECAR_MODES.map((m) => ({ name: src(m.tag), tag: m.tag })));
    apps.push(await startApp(d.collector, base + 3, c.config, c.env));
    for (const [n, m] of SIDECAR_MODES.entries()) await d.register(m.tag, 'web', fakeInstance('w1', `10.63.${n}.1`, HTTP_PORT, 'http'));
    const hosts = SIDECAR_MODES.map((m) => d.host(m.tag, 'web'));
    const v = await snapshot('the sidecar-carrying services', (x) => hosts.every((h) => !!clusterOf(x, h, HTTP_PORT)?.endpoints.length));
    for (const h of hosts) {
      const web = mustCluster(v, h, HTTP_PORT);
      expect(web.endpoints.map((e) => [e.address, e.tlsMode ?? 'none', e.transport])).toEqual([[web.endpoints[0].address, 'istio', 'mtls']]);
    }
  });
});
