// A key that becomes refused after its ServiceEntry was written: a ServiceEntry not managed by us
// appears later with the same host. Expected: ours does not keep its stale endpoints (emptied at
// once, resolution STATIC), is deleted only under the deletion rules (complete snapshot, grace,
// budget), the refusal and what happened to the object are in /status and the metrics, and the
// unmanaged object is never touched.
import { kubePath } from '@registry-bridge/test-peers';
import { until } from './support/apps';
import { Ingest } from './support/queue';
import { dumpOnFailure, Scenario } from './support/scenario';

type Refused = Record<string, { reason: string; object?: { object: string; state: string; held?: string } }>;

describe('a key refused after it was written', () => {
  let sc: Scenario;
  let q: Ingest;
  let source: string;
  dumpOnFailure(() => sc);
  beforeAll(async () => {
    sc = await new Scenario('ra').setUp([], ['writer']);
    source = `consul-ra-${sc.id}`;
    q = new Ingest(sc, source);
    const writer = await sc.app('writer', sc.writerConfig({ [source]: { kind: 'consul' } }, { reconcile: { fullResyncSeconds: 3 } }));
    await until('leader', async () => (await writer.metric('registry_bridge_writer_leader')) === 1, 30000);
    await q.status();
  });
  afterAll(async () => sc?.tearDown());
  const writer = () => sc.apps[0];
  // A host of its own per run: namespaces deleted on the test API server keep their objects (no controller-manager).
  const late = () => `late-${sc.id}`;
  const refused = async () => (await writer().json<{ refused: Refused }>('/status')).refused[`${source}//${late()}`];

  it('a later host collision empties ours at once and deletes it under the deletion rules; the other object is never touched', async () => {
    await q.upsert(late(), 1, ['10.68.0.1', '10.68.0.2']);
    const ours = await until('late written', () => sc.seOf(late()));
    const t0 = Date.now();
    await sc.kube.must('POST', kubePath('ServiceEntry', sc.ns), {
      apiVersion: 'networking.istio.io/v1',
      kind: 'ServiceEntry',
      metadata: { name: 'payments-late', namespace: sc.ns, labels: { team: 'payments' } },
      spec: { hosts: [`late-${sc.id}.service.consul`], ports: [{ number: 8080, name: 'http', protocol: 'HTTP' }], resolution: 'STATIC', endpoints: [{ address: '192.0.2.20' }] },
    });
    // The next full resync sees the foreign host; ours loses its endpoints, not its existence.
    const emptied = await until('ours emptied', async () => {
      const se = await sc.seOf(late());
      return se && !se.spec.endpoints?.length ? se : undefined;
    }, 30000);
    const emptiedAfter = Date.now() - t0;
    expect(emptied.metadata.name).toBe(ours.metadata.name);
    // emptied in place, not deleted and recreated
    expect(sc.recorder.since(t0).filter((e) => e.name === ours.metadata.name && e.type === 'DELETED')).toEqual([]);
    const held = await until('refusal reported', async () => (await refused())?.object);
    expect(held.state).toBe('emptied');
    expect(held.held).toMatch(/^no-complete-snapshot/);
    expect((await refused())?.reason).toBe('host-collision');
    expect(await writer().metric('registry_bridge_refused_objects_total', { source, action: 'emptied' })).toBe(1);

    // The registry still has the service: a complete snapshot listing it lets the deletion go ahead after the grace period.
    const t1 = Date.now();
    await q.snapshot([late()]);
    await q.status();
    await until('ours deleted', async () => !(await sc.seOf(late())), 30000);
    const deletedAfter = Date.now() - t1;
    expect((await refused())?.object?.state).toBe('deleted');
    expect(await writer().metric('registry_bridge_refused_objects_total', { source, action: 'deleted' })).toBe(1);

    const foreign = (await sc.ses()).find((o) => o.metadata.name === 'payments-late');
    expect(foreign?.spec.endpoints?.map((e) => e.address)).toEqual(['192.0.2.20']);
    expect(sc.recorder.since(t0).filter((e) => e.name === 'payments-late' && e.type !== 'ADDED')).toEqual([]);
    process.stdout.write(`[observed] refused after write: emptied ${emptiedAfter} ms after the collision, deleted ${deletedAfter} ms after the complete snapshot (grace 2 s)\n`);
  });
});
