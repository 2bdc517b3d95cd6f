// Faults on the queue (out-of-order and duplicate deliveries, an unknown contract version) and in
// the cluster (a managed ServiceEntry edited or deleted by hand; an unmanaged one holding the same
// name or host). Expected: the latest revision wins and nothing older is ever written; the unknown
// message lands in `rb-dead-letter` with its reason; hand edits and deletes are repaired; the
// unmanaged objects are never touched, and the refusal is reported (status, metric, Event).
import { QUEUES, serviceKey } from '@registry-bridge/contract';
import { Queue } from 'bullmq';
import { createHash } from 'node:crypto';
import { sleep, until } from './support/apps';
import { kubePath } from '@registry-bridge/test-peers';
import { Ingest } from './support/queue';
import { dumpOnFailure, Scenario } from './support/scenario';

describe('queue faults and hand edits', () => {
  let sc: Scenario;
  let q: Ingest;
  let source: string;
  dumpOnFailure(() => sc);
  beforeAll(async () => {
    sc = await new Scenario('qd').setUp([], ['writer']);
    source = `consul-qd-${sc.id}`;
    q = new Ingest(sc, source);
    const writer = await sc.app('writer', sc.writerConfig({ [source]: { kind: 'consul' } }));
    await until('leader', async () => (await writer.metric('registry_bridge_writer_leader')) === 1, 30000);
    await q.status();
  });
  afterAll(async () => sc?.tearDown());
  const writer = () => sc.apps[0];
  const addrs = async (svc: string) => (await sc.seOf(svc))?.spec.endpoints?.map((e) => e.address).sort();

  it('out-of-order and duplicate deliveries: the latest revision wins, nothing older is written', async () => {
    const t0 = Date.now();
    await q.upsert('ooo', 5, ['10.67.0.5']);
    await q.upsert('ooo', 3, ['10.67.0.3']);
    await q.upsert('ooo', 4, ['10.67.0.4']);
    await q.upsert('ooo', 5, ['10.67.0.5']); // redelivery
    await q.upsert('ooo', 5, ['10.67.0.5']);
    await q.upsert('marker', 1, ['10.67.9.9']); // processed after all of the above
    await until('marker', () => sc.seOf('marker'));
    await sleep(1000);
    expect(await addrs('ooo')).toEqual(['10.67.0.5']);
    const writes = sc.recorder.since(t0).filter((e) => e.service === 'ooo');
    expect(writes.map((e) => e.endpoints)).toEqual([['10.67.0.5']]); // one create, no stale or duplicate write
    expect(await writer().metric('registry_bridge_stale_records_total', { source })).toBeGreaterThanOrEqual(2);
  });

  it('an unknown contract version goes to the dead-letter queue with the reason; the queue keeps flowing', async () => {
    await q.queue.add('upsert', { v: 99, type: 'upsert', record: { future: true } });
    await q.upsert('after-dlq', 1, ['10.67.1.1']);
    await until('the next message still applied', () => sc.seOf('after-dlq'));
    const dlq = new Queue(QUEUES.deadLetter, { connection: q.redis, prefix: sc.prefix });
    const jobs = await until('dead letter', async () => {
      const j = await dlq.getJobs(['waiting', 'completed', 'delayed', 'active', 'failed']);
      return j.length ? j : undefined;
    });
    await dlq.close();
    expect(JSON.stringify(jobs.map((j) => j.data.reason))).toContain('unsupported contract version 99');
    expect(await writer().metric('registry_bridge_dead_letters_total')).toBeGreaterThanOrEqual(1);
  });

  it('a hand edit and a hand delete of a managed ServiceEntry are repaired', async () => {
    await q.upsert('drift', 1, ['10.67.2.1', '10.67.2.2']);
    const se = await until('drift', () => sc.seOf('drift'));
    let t = Date.now();
    await sc.kube.must('PATCH', kubePath('ServiceEntry', sc.ns, se.metadata.name), { spec: { endpoints: [{ address: '192.0.2.66' }] } }, 'application/merge-patch+json');
    await until('edit repaired', async () => JSON.stringify(await addrs('drift')) === JSON.stringify(['10.67.2.1', '10.67.2.2']), 30000, 100);
    const editRepair = Date.now() - t;
    t = Date.now();
    await sc.kube.must('DELETE', kubePath('ServiceEntry', sc.ns, se.metadata.name));
    await until('delete repaired', async () => (await addrs('drift'))?.length === 2, 30000, 100);
    const deleteRepair = Date.now() - t;
    process.stdout.write(`[observed] drift: hand edit repaired in ${editRepair} ms, hand delete in ${deleteRepair} ms\n`);
  });

  it('an unmanaged ServiceEntry with the same name or the same host is left alone and reported', async () => {
    const nameOf = (service: string) => `${source}-${service}-${createHash('sha256').update(serviceKey({ source, service })).digest('hex').slice(0, 8)}`;
    const unmanaged = (name: string, host: string) => ({
      apiVersion: 'networking.istio.io/v1',
      kind: 'ServiceEntry',
      metadata: { name, namespace: sc.ns, labels: { team: 'payments' } },
      spec: { hosts: [host], ports: [{ number: 9000, name: 'tcp', protocol: 'TCP' }], resolution: 'STATIC', endpoints: [{ address: '192.0.2.10' }] },
    });
    await sc.kube.must('POST', kubePath('ServiceEntry', sc.ns), unmanaged(nameOf('samename'), 'hand-made.example.internal'));
    await sc.kube.must('POST', kubePath('ServiceEntry', sc.ns), unmanaged('hand-made-host', 'samehost.service.consul'));
    const before = await sc.ses();
    const t0 = Date.now();
    await q.upsert('samename', 1, ['10.67.3.1']);
    await q.upsert('samehost', 1, ['10.67.4.1']);
    await q.upsert('marker2', 1, ['10.67.9.8']);
    await until('marker2', () => sc.seOf('marker2'));
    const status = await until('both refusals reported', async () => {
      const s = await writer().json<{ refused: Record<string, unknown> }>('/status');
      const text = JSON.stringify(s.refused);
      return text.includes('samename') && text.includes('samehost') ? text : undefined;
    });
    // untouched: no write of either since
    const touched = sc.recorder.since(t0).filter((e) => e.name === nameOf('samename') || e.name === 'hand-made-host');
    expect(touched).toEqual([]);
    const after = await sc.ses();
    for (const n of [nameOf('samename'), 'hand-made-host']) {
      // generation, not resourceVersion: istiod (when running) writes these objects' status
      const pick = (l: typeof after) => l.find((o) => o.metadata.name === n);
      expect({ gen: pick(after)?.metadata.generation, labels: pick(after)?.metadata.labels, spec: pick(after)?.spec }).toEqual({ gen: pick(before)?.metadata.generation, labels: pick(before)?.metadata.labels, spec: pick(before)?.spec });
    }
    expect(await writer().metric('registry_bridge_refused_total', { source })).toBeGreaterThanOrEqual(2);
    const events = await until('warning events', async () => {
      const ev = (await sc.kube.events(sc.ns)).filter((e) => e.type === 'Warning');
      return ev.length ? ev : undefined;
    });
    process.stdout.write(`[observed] unmanaged collisions: refused ${status.slice(0, 300)}; events ${events.map((e) => `${e.reason}: ${e.message}`).join(' | ').slice(0, 300)}\n`);
  });
});
