// Fault: the registry stops answering for longer than every timeout (request timeout 2 s, blocking
// wait 5 s, collector readiness grace, writer grace 2 s and source silence 20 s), then comes back.
// Expected: nothing deleted or emptied, the source unhealthy in readiness and metrics meanwhile; on
// return the same state with no write at all, and the next real change flows again.
import { sleep, until } from './support/apps';
import { consulCollectorConfig, converged, ready, seedConsul } from './support/consul-pipeline';
import { awsEnv, CloudMap, cloudMapCollectorConfig } from './support/cloudmap';
import { OwnConsul, OwnMoto } from './support/own-peers';
import { dumpOnFailure, Scenario } from './support/scenario';

describe('registry unreachable for longer than every timeout', () => {
  let sc: Scenario;
  let consul: OwnConsul | undefined;
  let moto: OwnMoto | undefined;
  dumpOnFailure(() => sc);
  afterEach(async () => {
    consul?.thaw();
    moto?.thaw();
    await consul?.kill();
    await moto?.kill();
    await sc?.tearDown();
  });

  it('Consul frozen for 30 s: no deletion, no emptied ServiceEntry, unhealthy in readiness and metrics, converges with no spurious write', async () => {
    sc = await new Scenario('outage').setUp([], ['writer', 'collector-consul']);
    consul = await new OwnConsul().start();
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
    await until('collector ready again', async () => (await ready(collector)) === 200, 40000, 500);
    await until('writer sees the source reachable', async () => (await writer.metric('registry_bridge_source_reachable', { source })) === 1, 40000, 500);
    await sleep(8000); // two snapshot intervals and a full resync
    // convergence without spurious writes: the state was right all along
    expect(sc.recorder.summary(t0)).toBe('');
    await converged(sc, names, 2, 1000);

    // and the pipeline still moves: the next real change arrives
    await consul.deregister(`${names[0]}-2`);
    await converged(sc, [names[0]], 1, 30000);
    process.stdout.write(
      `[observed] registry-outage: frozen ${Math.round((tBack - t0) / 1000)} s; writes during outage ${during.length}; collector ready body while down: ${readyBody.slice(0, 160)}\n`,
    );
  });
  it('Cloud Map API frozen for 30 s: no deletion, no emptied ServiceEntry, unhealthy in readiness and metrics, converges with no spurious write', async () => {
    sc = await new Scenario('cmout').setUp([], ['writer', 'collector-cloudmap']);
    const m = await new OwnMoto().start();
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
    const collector = await sc.app('collector-cloudmap', cloudMapCollectorConfig(sc, source, [nsName], m.endpoint), awsEnv(sc.peers));
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
    await until('collector ready again', async () => (await ready(collector)) === 200, 45000, 500);
    await sleep(6000);
    expect(sc.recorder.summary(t0)).toBe('');
    process.stdout.write(`[observed] registry-outage cloudmap: frozen ${Math.round((tBack - t0) / 1000)} s; writes during outage ${during.length}; ready again ${Math.round((Date.now() - tBack) / 1000 - 6)} s after thaw\n`);
  });
});
