// Fault: a registry that had many services suddenly answers with an empty (or cut) inventory —
// a wiped Consul dev agent, a Cloud Map namespace filter mistake. Expected: the writer's deletion
// budget (maxDeletes 2, maxDeletePercent 0, per 120 s window) holds: at most 2 ServiceEntries
// deleted, the guard trips visibly (metric and status), and the rest stays as it was.
import { sleep, until } from './support/apps';
import { awsEnv, CloudMap, cloudMapCollectorConfig } from './support/cloudmap';
import { consulCollectorConfig, converged, seedConsul } from './support/consul-pipeline';
import { PrivateConsul, PrivateEureka } from '@registry-bridge/test-peers';
import { dumpOnFailure, Scenario } from './support/scenario';

const BUDGET = 2;

describe('registry returns empty after having many services', () => {
  let sc: Scenario;
  let consul: PrivateConsul | undefined;
  let cm: CloudMap | undefined;
  let eureka: PrivateEureka | undefined;
  dumpOnFailure(() => sc);
  afterEach(async () => {
    await eureka?.kill();
    await consul?.kill();
    cm?.close();
    await sc?.tearDown();
    consul = undefined;
    cm = undefined;
  });

  it('wiped Consul agent: at most the budget is deleted, the guard trips, re-registering restores everything', async () => {
    sc = await new Scenario('wipe').setUp([], ['writer', 'collector-consul']);
    consul = await new PrivateConsul().start();
    const source = `consul-wipe-${sc.id}`;
    const names = await seedConsul(consul, `wipe${sc.id}`, 10, 1, 61);
    const writer = await sc.app('writer', sc.writerConfig({ [source]: { kind: 'consul' } }));
    await sc.app('collector-consul', consulCollectorConfig(sc, { source, address: consul.addr }));
    await converged(sc, names, 1);
    await until('complete snapshot at the writer', async () => (await writer.metric('registry_bridge_source_snapshot_complete', { source })) === 1);

    const t0 = Date.now();
    await consul.kill();
    await consul.start(); // same ports, empty catalog: the dev agent keeps nothing
    await until('guard trips', async () => (await writer.metric('registry_bridge_guard_trips_total', { source })) > 0, 45000, 500);
    await sleep(12000); // a full resync and several snapshots later, still held
    const deleted = sc.recorder.since(t0, { type: 'DELETED', kind: 'ServiceEntry' });
    expect(deleted.length).toBeLessThanOrEqual(BUDGET);
    expect((await sc.ses()).length).toBeGreaterThanOrEqual(names.length - BUDGET);
    // what stayed was not emptied or rewritten either
    expect(sc.recorder.since(t0, { type: 'MODIFIED', kind: 'ServiceEntry' }).filter((e) => e.endpoints.length === 0)).toEqual([]);
    const status = await writer.json<{ sources: unknown }>('/status');
    const trips = await writer.metric('registry_bridge_guard_trips_total', { source });

    // the operator re-registers: everything comes back, including what the budget let go
    await seedConsul(consul, `wipe${sc.id}`, 10, 1, 61);
    await converged(sc, names, 1, 60000);
    process.stdout.write(`[observed] registry-wipe consul: deleted ${deleted.length}/${names.length} (budget ${BUDGET}), guard trips ${trips}; writer status ${JSON.stringify(status.sources).slice(0, 300)}\n`);
  });

  it('Cloud Map namespace filter mistake: the collector restarted with a wrong namespace name deletes at most the budget', async () => {
    sc = await new Scenario('cmwipe').setUp(['cloudMap'], ['writer', 'collector-cloudmap']);
    cm = new CloudMap(sc.peers);
    const source = `cloudmap-wipe-${sc.id}`;
    const nsName = `wipe-${sc.id}.local`;
    const nsId = await cm.namespace(nsName);
    const names: string[] = [];
    for (let i = 0; i < 8; i++) {
      const svc = await cm.service(nsId, `svc${i}`);
      await cm.register(svc, `i${i}`, { AWS_INSTANCE_IPV4: `10.62.0.${i + 1}`, AWS_INSTANCE_PORT: '8080' });
      names.push(`svc${i}`);
    }
    const writer = await sc.app('writer', sc.writerConfig({ [source]: { kind: 'cloudmap' } }));
    const collector = await sc.app('collector-cloudmap', cloudMapCollectorConfig(sc, source, [nsName]), awsEnv(sc.peers));
    await converged(sc, names, 1);
    await until('complete snapshot at the writer', async () => (await writer.metric('registry_bridge_source_snapshot_complete', { source })) === 1);

    const t0 = Date.now();
    await collector.stop();
    // the typo: a namespace that does not exist, so the inventory reads as empty
    await sc.app('collector-cloudmap', cloudMapCollectorConfig(sc, source, [`wipe-${sc.id}.locl`]), awsEnv(sc.peers));
    await sleep(15000);
    const deleted = sc.recorder.since(t0, { type: 'DELETED', kind: 'ServiceEntry' });
    expect(deleted.length).toBeLessThanOrEqual(BUDGET);
    expect((await sc.ses()).length).toBeGreaterThanOrEqual(names.length - BUDGET);
    const trips = await writer.metric('registry_bridge_guard_trips_total', { source });
    const complete = await writer.metric('registry_bridge_source_snapshot_complete', { source });
    // either the collector refuses to call an unmatched filter complete, or the writer's guard holds
    expect(deleted.length === 0 || trips > 0).toBe(true);
    process.stdout.write(`[observed] registry-wipe cloudmap: deleted ${deleted.length}/${names.length} (budget ${BUDGET}), guard trips ${trips}, snapshot complete ${complete}\n`);
  });
  it('Eureka server restarted (empty registry answered with 200): at most the budget is deleted, re-registering restores everything', async () => {
    sc = await new Scenario('euwipe').setUp([], ['writer', 'collector-eureka']);
    const e = await new PrivateEureka().start();
    eureka = e;
    const source = `eureka-wipe-${sc.id}`;
    const apps = Array.from({ length: 8 }, (_, i) => `WIPE${i}`);
    const seed = async () => {
      for (const [i, app] of apps.entries()) await e.register(app, `${app.toLowerCase()}-1`, `10.74.${i}.1`);
    };
    await seed();
    const writer = await sc.app('writer', sc.writerConfig({ [source]: { kind: 'eureka' } }));
    await sc.app('collector-eureka', {
      redis: { url: sc.peers.redisUrl, prefix: sc.prefix },
      collector: { heartbeatSeconds: 2 },
      sources: [{ name: source, serviceUrls: [e.url], pollIntervalSeconds: 2 }],
    });
    const names = apps.map((a) => a.toLowerCase());
    const services = await until('eureka services', async () => {
      const ses = await sc.ses();
      return ses.length === apps.length ? ses.map((o) => o.metadata.annotations?.['registry-bridge.io/service'] as string) : undefined;
    }, 90000, 500);
    const t0 = Date.now();
    await e.kill();
    await e.start(); // a restarted Eureka server answers 200 with no applications
    await sleep(15000);
    const deleted = sc.recorder.since(t0, { type: 'DELETED', kind: 'ServiceEntry' });
    expect(deleted.length).toBeLessThanOrEqual(BUDGET);
    expect((await sc.ses()).length).toBeGreaterThanOrEqual(apps.length - BUDGET);
    const trips = await writer.metric('registry_bridge_guard_trips_total', { source });
    await seed();
    await converged(sc, services, 1, 60000);
    process.stdout.write(`[observed] registry-wipe eureka: deleted ${deleted.length}/${apps.length} (budget ${BUDGET}), writer guard trips ${trips} (${names.length} apps)\n`);
  });
});
