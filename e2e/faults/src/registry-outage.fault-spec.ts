// Fault: the registry stops answering for longer than every timeout (request timeout 2 s, blocking
// wait 5 s, collector readiness grace, writer grace 2 s and source silence 20 s), then comes back
// with its data (SIGSTOP/SIGCONT: same index, same revisions, as a registry restarted with its data).
// Expected: nothing deleted or emptied, the source unhealthy in readiness and metrics meanwhile; on
// return the same state with no write at all, and the next real change flows again. Measured: the
// time from the registry answering again to the collector ready and the writer's `reachable`.
import { App, sleep, until } from './support/apps';
import { consulCollectorConfig, converged, ready, seedConsul } from './support/consul-pipeline';
import { awsEnv, CloudMap, cloudMapCollectorConfig } from './support/cloudmap';
import { PrivateConsul, PrivateEureka, PrivateMoto } from '@registry-bridge/test-peers';
import { dumpOnFailure, Scenario } from './support/scenario';

/**
 * From the registry answering again (`tBack`) to the collector's /health/ready 200 and the
 * writer's registry_bridge_source_reachable 1, polled every 100 ms (the figures' resolution).
 */
async function recovery(collector: App, writer: App, source: string, tBack: number): Promise<{ readyS: number; reachableS: number }> {
  const [readyAt, reachableAt] = await Promise.all([
    until('collector ready again', async () => (await ready(collector)) === 200 && Date.now(), 60000, 100),
    until('writer sees the source reachable', async () => (await writer.metric('registry_bridge_source_reachable', { source })) === 1 && Date.now(), 60000, 100),
  ]);
  return { readyS: (readyAt - tBack) / 1000, reachableS: (reachableAt - tBack) / 1000 };
}

describe('registry unreachable for longer than every timeout', () => {
  let sc: Scenario;
  let consul: PrivateConsul | undefined;
  let moto: PrivateMoto | undefined;
  let eureka: PrivateEureka | undefined;
  dumpOnFailure(() => sc);
  afterEach(async () => {
    consul?.thaw();
    moto?.thaw();
    eureka?.thaw();
    await consul?.kill();
    await moto?.kill();
    await eureka?.kill();
    consul = moto = eureka = undefined;
    await sc?.tearDown();
  });

  it('Consul frozen for 30 s: no deletion, no emptied ServiceEntry, unhealthy in readiness and metrics, converges with no spurious write', async () => {
    sc = await new Scenario('outage').setUp([], ['writer', 'collector-consul']);
    consul = await new PrivateConsul().start();
    const source = `consul-out-${sc.id}`;
    const names = await seedConsul(consul, `out${sc.id}`, 6, 2);
    const writer = await sc.app('writer', sc.writerConfig({ [source]: { kind: 'consul' } }));
    const collector = await sc.app('collector-consul', consulCollectorConfig(sc, { source, address: consul.addr }));
    await converged(sc, names, 2);
    await until('source reachable at the writer', async () => (await writer.metric('registry_bridge_source_reachable', { source })) === 1);
    await sleep(3000); // let the first snapshot and status settle before the fault

    const t0 = Date.now();
    // SIGSTOP: connections are accepted by the kernel, nothing ever answers (worse than refused)
    consul.freeze();
    await until('collector not ready', async () => (await ready(collector)) === 503, 40000, 500);
    await until('writer sees the source unreachable', async () => (await writer.metric('registry_bridge_source_reachable', { source })) === 0, 40000, 500);
    const readyBody = (await collector.get('/health/ready')).text;
    await sleep(Math.max(0, 30000 - (Date.now() - t0)));
    const during = sc.recorder.since(t0);
    expect(during.filter((e) => e.type === 'DELETED')).toEqual([]);
    expect(during.filter((e) => e.kind === 'ServiceEntry' && e.endpoints.length < 2)).toEqual([]);
    expect((await sc.ses()).length).toBe(6);

    const tBack = Date.now();
    consul.thaw();
    const back = await recovery(collector, writer, source, tBack);
    await sleep(8000); // two snapshot intervals and a full resync
    // convergence without spurious writes: the state was right all along
    expect(sc.recorder.summary(t0)).toBe('');
    await converged(sc, names, 2, 1000);

    // and the pipeline still moves: the next real change arrives
    await consul.deregister(`${names[0]}-2`);
    await converged(sc, [names[0]], 1, 30000);
    process.stdout.write(
      `[observed] registry-outage consul: frozen ${Math.round((tBack - t0) / 1000)} s; writes during outage ${during.length}; answering again -> collector ready ${back.readyS.toFixed(1)} s, writer reachable ${back.reachableS.toFixed(1)} s; collector ready body while down: ${readyBody.slice(0, 160)}\n`,
    );
  });
  // Issue 15.2 as reported: a Consul server restarted with its data (catalog index unchanged), with
  // the production cadences (blocking wait 60 s, backoff up to 30 s, request timeout 10 s).
  it('Consul server restarted with its data, production cadences: no write, and reachable again within seconds of it answering', async () => {
    sc = await new Scenario('orst').setUp([], ['writer', 'collector-consul']);
    consul = await new PrivateConsul(undefined, { persistent: true }).start();
    const source = `consul-rst-${sc.id}`;
    const names: string[] = [];
    for (let i = 0; i < 4; i++) {
      const name = `rst${sc.id}-${i}`;
      names.push(name);
      // no checks: a restarted agent re-runs them, and this row is about the collector, not health flips
      for (let j = 1; j <= 2; j++) await consul.register({ Name: name, ID: `${name}-${j}`, Address: `10.61.${i}.${j}`, Port: 8080, Meta: { protocol: 'http' } });
    }
    const writer = await sc.app('writer', sc.writerConfig({ [source]: { kind: 'consul' } }));
    const cfg = consulCollectorConfig(sc, { source, address: consul.addr });
    const [src] = cfg['sources'] as Array<Record<string, unknown>>;
    src['watch'] = { snapshotIntervalSeconds: 4 }; // the rest at the defaults: waitSeconds 60, backoffMaxSeconds 30, requestTimeoutSeconds 10
    const collector = await sc.app('collector-consul', cfg);
    await converged(sc, names, 2);
    await until('source reachable at the writer', async () => (await writer.metric('registry_bridge_source_reachable', { source })) === 1);
    await sleep(3000);

    const t0 = Date.now();
    await consul.kill('SIGKILL');
    await until('writer sees the source unreachable', async () => (await writer.metric('registry_bridge_source_reachable', { source })) === 0, 45000, 200);
    await sleep(5000);
    await consul.start(); // same ports, same data dir: answers once it leads again
    const tBack = Date.now();
    const back = await recovery(collector, writer, source, tBack);
    await sleep(6000);
    expect(sc.recorder.summary(t0)).toBe('');
    await converged(sc, names, 2, 1000);
    process.stdout.write(
      `[observed] registry-outage consul restart with data (wait 60 s): down ${Math.round((tBack - t0) / 1000)} s; answering again -> collector ready ${back.readyS.toFixed(1)} s, writer reachable ${back.reachableS.toFixed(1)} s\n`,
    );
  });

  it('Cloud Map API frozen for 30 s: no deletion, no emptied ServiceEntry, unhealthy in readiness and metrics, converges with no spurious write', async () => {
    sc = await new Scenario('cmout').setUp([], ['writer', 'collector-cloudmap']);
    const m = await new PrivateMoto().start();
    moto = m;
    const cm = new CloudMap(sc.peers, m.endpoint);
    sc.onCleanup(() => cm.close());
    const source = `cloudmap-out-${sc.id}`;
    const nsName = `out-${sc.id}.local`;
    const nsId = await cm.namespace(nsName);
    const names: string[] = [];
    for (let i = 0; i < 4; i++) {
      const svc = await cm.service(nsId, `svc${i}`);
      await cm.register(svc, `a${i}`, { AWS_INSTANCE_IPV4: `10.73.${i}.1`, AWS_INSTANCE_PORT: '8080' });
      await cm.register(svc, `b${i}`, { AWS_INSTANCE_IPV4: `10.73.${i}.2`, AWS_INSTANCE_PORT: '8080' });
      names.push(`svc${i}`);
    }
    const writer = await sc.app('writer', sc.writerConfig({ [source]: { kind: 'cloudmap' } }));
    // An inventory every 20 s, as in production slower than the outage's own cadence, so one fails
    // during the freeze: what follows it decides how soon the source reads reachable again.
    const cfg = cloudMapCollectorConfig(sc, source, [nsName], m.endpoint);
    const [src] = cfg['sources'] as Array<{ intervals: Record<string, number> }>;
    src.intervals = { ...src.intervals, inventorySeconds: 20 };
    const collector = await sc.app('collector-cloudmap', cfg, awsEnv(sc.peers));
    await converged(sc, names, 2);
    await until('source reachable at the writer', async () => (await writer.metric('registry_bridge_source_reachable', { source })) === 1);
    await sleep(3000);

    const t0 = Date.now();
    m.freeze();
    await until('collector not ready', async () => (await ready(collector)) === 503, 45000, 500);
    await until('writer sees the source unreachable', async () => (await writer.metric('registry_bridge_source_reachable', { source })) === 0, 45000, 500);
    await sleep(Math.max(0, 30000 - (Date.now() - t0)));
    const during = sc.recorder.since(t0);
    expect(during.filter((e) => e.type === 'DELETED')).toEqual([]);
    expect(during.filter((e) => e.kind === 'ServiceEntry' && e.endpoints.length < 2)).toEqual([]);
    const tBack = Date.now();
    m.thaw();
    const back = await recovery(collector, writer, source, tBack);
    await sleep(6000);
    expect(sc.recorder.summary(t0)).toBe('');
    process.stdout.write(
      `[observed] registry-outage cloudmap: frozen ${Math.round((tBack - t0) / 1000)} s; writes during outage ${during.length}; answering again -> collector ready ${back.readyS.toFixed(1)} s, writer reachable ${back.reachableS.toFixed(1)} s\n`,
    );
  });

  it('Eureka server frozen for 30 s: no deletion, no emptied ServiceEntry, unhealthy in readiness and metrics, converges with no spurious write', async () => {
    sc = await new Scenario('euout').setUp([], ['writer', 'collector-eureka']);
    const e = await new PrivateEureka().start();
    eureka = e;
    const source = `eureka-out-${sc.id}`;
    const apps = Array.from({ length: 4 }, (_, i) => `OUT${i}`);
    for (const [i, app] of apps.entries()) {
      await e.register(app, `${app.toLowerCase()}-1`, `10.75.${i}.1`);
      await e.register(app, `${app.toLowerCase()}-2`, `10.75.${i}.2`);
    }
    const writer = await sc.app('writer', sc.writerConfig({ [source]: { kind: 'eureka' } }));
    // The default poll interval (10 s); readiness fails after one missed poll plus the 2 s timeout.
    const collector = await sc.app('collector-eureka', {
      redis: { url: sc.peers.redisUrl, prefix: sc.prefix },
      collector: { heartbeatSeconds: 2 },
      readinessGraceSeconds: 10,
      sources: [{ name: source, serviceUrls: [e.url], pollIntervalSeconds: 10, timeoutSeconds: 2 }],
    });
    // the registry-native service names, as the collector reports them
    const names = await until('eureka services with both instances', async () => {
      const ses = await sc.ses();
      return ses.length === apps.length && ses.every((o) => (o.spec.endpoints ?? []).length === 2) ? ses.map((o) => o.metadata.annotations?.['registry-bridge.io/service'] as string) : undefined;
    }, 90000, 500);
    await until('source reachable at the writer', async () => (await writer.metric('registry_bridge_source_reachable', { source })) === 1);
    await sleep(3000);

    const t0 = Date.now();
    e.freeze();
    await until('collector not ready', async () => (await ready(collector)) === 503, 45000, 500);
    await until('writer sees the source unreachable', async () => (await writer.metric('registry_bridge_source_reachable', { source })) === 0, 45000, 500);
    await sleep(Math.max(0, 30000 - (Date.now() - t0)));
    const during = sc.recorder.since(t0);
    expect(during.filter((x) => x.type === 'DELETED')).toEqual([]);
    expect(during.filter((x) => x.kind === 'ServiceEntry' && x.endpoints.length < 2)).toEqual([]);
    const tBack = Date.now();
    e.thaw();
    const back = await recovery(collector, writer, source, tBack);
    await sleep(6000);
    expect(sc.recorder.summary(t0)).toBe('');
    await converged(sc, names, 2, 1000);
    process.stdout.write(
      `[observed] registry-outage eureka: frozen ${Math.round((tBack - t0) / 1000)} s; writes during outage ${during.length}; answering again -> collector ready ${back.readyS.toFixed(1)} s, writer reachable ${back.reachableS.toFixed(1)} s\n`,
    );
  });
});
