import { KubeObject } from '@registry-bridge/kube';
import { objectName } from '@registry-bridge/translation';
import { consulRecord, waitFor, WriterHarness } from './writer-harness';

// Records pushed onto the real Redis become ServiceEntries in the real API server, written by the
// built writer running as a process with the least-privilege identity (deploy/manifests/writer-rbac.yaml).
jest.setTimeout(180_000);

/** The object must be there (a missing one fails the test here, not as a TypeError later). */
function present<T>(o: T | undefined): T {
  if (o === undefined) throw new Error('expected the object to exist');
  return o;
}

const h = new WriterHarness();
const basePort = 19000 + Math.floor(Math.random() * 500) * 2;
let writer: ReturnType<WriterHarness['startWriter']>;
let configFile: string;

type SE = KubeObject & { spec: { hosts: string[]; endpoints?: Array<{ address: string }>; resolution: string; workloadSelector?: unknown } };
// What we wrote: generation (spec changes) and the time of our field manager's last write. Not
// resourceVersion: istiod, when it runs against the same API server, writes status.
const ours = (o: KubeObject) => [o.metadata.generation, o.metadata.labels, o.metadata.managedFields?.find((m) => m.manager === 'registry-bridge')?.time?.toString()];
const addresses = (se: SE | undefined) => (se?.spec.endpoints ?? []).map((e) => e.address).sort();

beforeAll(async () => {
  await h.setUp();
  configFile = h.config();
  writer = h.startWriter(configFile, basePort);
  try {
    await waitFor('writer to lead', async () => (await h.http<{ leader: boolean }>(basePort, '/status')).body.leader, 30_000, 250);
  } catch (err) {
    process.stderr.write(h.logs.slice(-40).join(''));
    throw err;
  }
});

afterAll(async () => {
  await h.tearDown();
});

afterEach(() => {
  const state = expect.getState();
  if (state.assertionCalls !== state.numPassingAsserts) process.stderr.write(h.logs.slice(-40).join(''));
});

describe('writer against the real API server', () => {
  it('applies an upsert as a valid ServiceEntry with only healthy endpoints and ownership labels', async () => {
    await h.status('consul-dc1');
    await h.producer.upsert(consulRecord('web', 10, [
      { id: 'web-1', address: '10.0.0.1', health: 'healthy', labels: { version: 'v1' } },
      { id: 'web-2', address: '10.0.0.2', health: 'unhealthy' },
    ]));
    const se = await waitFor('ServiceEntry of web', async () => (await h.seByService('web')) as SE | undefined);
    expect(se.spec.hosts).toEqual(['web.service.consul']);
    expect(se.spec.resolution).toBe('STATIC');
    expect(addresses(se)).toEqual(['10.0.0.1']);
    expect(se.metadata.labels).toMatchObject({ 'app.kubernetes.io/managed-by': 'registry-bridge', 'registry-bridge.io/installation': 'it', 'registry-bridge.io/source': 'consul-dc1' });
    // istiod, when it runs against the same API server, writes only the status subresource.
    expect(se.metadata.managedFields?.filter((m) => m.subresource !== 'status').map((m) => m.manager)).toEqual(['registry-bridge']);
  });

  it('reconciles a record for an idle key straight from its ingest job, without a second queue hop', async () => {
    const directs = async () => Number(/registry_bridge_reconciles_total\{path="ingest"\} (\d+)/.exec((await h.http<string>(basePort, '/metrics')).body)?.[1] ?? 0);
    const before = await directs();
    await h.producer.upsert(consulRecord('one-hop', 1, [{ id: 'o', address: '10.0.7.1', health: 'healthy' }]));
    await waitFor('ServiceEntry of one-hop', () => h.seByService('one-hop'));
    expect(await directs()).toBeGreaterThan(before);
  });

  it('updates on a newer revision and ignores an older one delivered late', async () => {
    await h.producer.upsert(consulRecord('web', 12, [{ id: 'web-1', address: '10.0.0.1', health: 'healthy' }, { id: 'web-3', address: '10.0.0.3', health: 'healthy' }]));
    await waitFor('web to have two endpoints', async () => addresses((await h.seByService('web')) as SE).length === 2);
    const before = present(await h.seByService('web'));
    await h.producer.upsert(consulRecord('web', 11, [{ id: 'web-9', address: '10.0.0.9', health: 'healthy' }]));
    // A marker record behind the stale one proves the stale one was processed.
    await h.producer.upsert(consulRecord('marker', 1, [{ id: 'm', address: '10.9.9.9', health: 'healthy' }]));
    await waitFor('marker', () => h.seByService('marker'));
    const after = (await h.seByService('web')) as SE;
    expect(addresses(after)).toEqual(['10.0.0.1', '10.0.0.3']);
    expect(ours(after)).toEqual(ours(before));
  });

  it('writes nothing for an unchanged record (index bump) and coalesces a burst', async () => {
    const before = present(await h.seByService('web'));
    await h.producer.upsert(consulRecord('web', 13, [{ id: 'web-3', address: '10.0.0.3', health: 'healthy' }, { id: 'web-1', address: '10.0.0.1', health: 'healthy' }]));
    for (let i = 0; i < 10; i++) {
      await h.producer.upsert(consulRecord('burst', 100 + i, [{ id: 'b', address: `10.1.0.${i + 1}`, health: 'healthy' }]));
    }
    await h.producer.upsert(consulRecord('marker', 2, [{ id: 'm', address: '10.9.9.8', health: 'healthy' }]));
    await waitFor('marker update', async () => addresses((await h.seByService('marker')) as SE)[0] === '10.9.9.8');
    const burst = await waitFor('burst to settle on the last', async () => addresses((await h.seByService('burst')) as SE)[0] === '10.1.0.10' && ((await h.seByService('burst')) as SE));
    expect(ours(present(await h.seByService('web')))).toEqual(ours(before));
    expect(Number(burst.metadata.generation)).toBeLessThanOrEqual(4);
  });

  it('dead-letters invalid messages with the reason and keeps going', async () => {
    await h.queue.add('upsert', { v: 1, type: 'upsert', record: { service: 'x' } });
    await h.queue.add('upsert', { v: 99, type: 'upsert' });
    await h.producer.upsert({ ...consulRecord('stranger', 1, []), source: { name: 'unknown-src', kind: 'consul' } });
    const { Queue } = await import('bullmq');
    const dlq = new Queue('rb-dead-letter', { connection: h.redis, prefix: h.prefix });
    const jobs = await waitFor('three dead letters', async () => {
      const j = await dlq.getJobs(['waiting']);
      return j.length >= 3 && j;
    });
    const reasons = jobs.map((j) => j.data.reason as string).join('\n');
    expect(reasons).toMatch(/record\.source/);
    expect(reasons).toMatch(/unsupported contract version 99/);
    expect(reasons).toMatch(/source unknown-src is not configured/);
    await dlq.close();
  });

  it('leaves a hand-made ServiceEntry with a colliding name or host alone and reports it', async () => {
    // Same host as a record will claim, not managed by us.
    await h.admin.create({ apiVersion: 'networking.istio.io/v1', kind: 'ServiceEntry', metadata: { name: 'hand-made-db', namespace: h.namespace }, spec: { hosts: ['db.service.consul'], ports: [{ number: 5432, name: 'tcp', protocol: 'TCP' }], resolution: 'STATIC', location: 'MESH_INTERNAL' } } as KubeObject);
    await new Promise((r) => setTimeout(r, 6000)); // one full resync learns the foreign host
    await h.producer.upsert(consulRecord('db', 1, [{ id: 'db-1', address: '10.2.0.1', health: 'healthy' }]));
    const status = await waitFor('db refused in /status', async () => {
      const s = (await h.http<{ refused: Record<string, { reason: string }> }>(basePort, '/status')).body;
      return s.refused['consul-dc1//db'];
    });
    expect(status.reason).toBe('host-collision');
    const handMade = await h.se('hand-made-db');
    expect(handMade?.metadata.labels?.['app.kubernetes.io/managed-by']).toBeUndefined();
    expect((await h.ses()).filter((o) => (o.spec as { hosts: string[] }).hosts.includes('db.service.consul'))).toHaveLength(1);
    const event = await waitFor('a Refused event on the hand-made object', async () => (await h.events()).find((e) => e.involvedObject.name === 'hand-made-db' && e.reason === 'Refused'));
    expect(event.type).toBe('Warning');
    expect(event.message).toMatch(/consul-dc1\/\/db: host-collision/);
  });

  it('leaves an unmanaged ServiceEntry that has the name it would use alone and reports it', async () => {
    const name = objectName(['consul-dc1', '', 'taken'], 'consul-dc1//taken');
    await h.admin.create({ apiVersion: 'networking.istio.io/v1', kind: 'ServiceEntry', metadata: { name, namespace: h.namespace, labels: { team: 'someone-else' } }, spec: { hosts: ['taken.example.internal'], ports: [{ number: 80, name: 'http', protocol: 'HTTP' }], resolution: 'STATIC', location: 'MESH_INTERNAL' } } as KubeObject);
    const before = present(await h.se(name));
    await h.producer.upsert(consulRecord('taken', 1, [{ id: 't', address: '10.6.0.1', health: 'healthy' }]));
    const refused = await waitFor('taken refused', async () => (await h.http<{ refused: Record<string, { reason: string }> }>(basePort, '/status')).body.refused['consul-dc1//taken']);
    expect(refused.reason).toBe('name-collision');
    const after = present(await h.se(name));
    expect(ours(after)).toEqual(ours(before));
    expect((after.spec as { hosts: string[] }).hosts).toEqual(['taken.example.internal']);
  });

  it('writes WorkloadEntries in workloadEntry mode', async () => {
    await h.status('eureka-a');
    await h.producer.upsert({
      source: { name: 'eureka-a', kind: 'eureka' },
      service: 'orders',
      ports: [{ name: 'http', number: 8080, protocol: 'HTTP' }],
      endpoints: [
        { id: 'o-1', address: '10.3.0.1', health: 'healthy', locality: 'us-east-1/us-east-1a' },
        { id: 'o-2', address: '10.3.0.2', health: 'healthy' },
        { id: 'o-3', address: '10.3.0.3', health: 'unhealthy' },
      ],
      revision: 5,
      observedAt: new Date().toISOString(),
    });
    const se = (await waitFor('orders SE', () => h.seByService('orders'))) as SE;
    expect(se.spec.workloadSelector).toBeDefined();
    const wes = await waitFor('two WorkloadEntries', async () => {
      const w = (await h.wes()).filter((o) => o.metadata.labels?.['registry-bridge.io/service-entry'] === se.metadata.name);
      return w.length === 2 && w;
    });
    expect(wes.map((w) => (w.spec as { address: string }).address).sort()).toEqual(['10.3.0.1', '10.3.0.2']);
  });

  it('does not delete a removed service without a complete snapshot, then deletes it after the grace period', async () => {
    await h.producer.upsert(consulRecord('gone', 1, [{ id: 'g', address: '10.4.0.1', health: 'healthy' }]));
    await waitFor('gone SE', () => h.seByService('gone'));
    await h.producer.remove({ source: { name: 'consul-dc1', kind: 'consul' }, service: 'gone', revision: 2, observedAt: new Date().toISOString() });
    await new Promise((r) => setTimeout(r, 4000));
    expect(await h.seByService('gone')).toBeDefined();
    const status = (await h.http<{ sources: Record<string, { guard: { guard: string } | null }> }>(basePort, '/status')).body;
    expect(status.sources['consul-dc1'].guard?.guard).toBe('no-complete-snapshot');
    const goneName = present(await h.seByService('gone')).metadata.name;
    await waitFor('a DeletionHeld event', async () => (await h.events()).find((e) => e.involvedObject.name === goneName && e.reason === 'DeletionHeld'));
    const services = ['web', 'marker', 'burst', 'db'].map((service) => ({ service }));
    await h.producer.snapshot({ source: { name: 'consul-dc1', kind: 'consul' }, epoch: 1, complete: true, services, observedAt: new Date().toISOString() });
    await h.status('consul-dc1');
    await waitFor('gone to be deleted', async () => !(await h.seByService('gone')), 30_000);
    expect(await h.seByService('web')).toBeDefined();
  });

  it('holds deletions beyond the budget when a snapshot suddenly empties', async () => {
    await h.producer.snapshot({ source: { name: 'consul-dc1', kind: 'consul' }, epoch: 2, complete: true, services: [], observedAt: new Date().toISOString() });
    await waitFor('snapshot-budget guard', async () => {
      const s = (await h.http<{ sources: Record<string, { guard: { guard: string } | null }> }>(basePort, '/status')).body;
      return s.sources['consul-dc1'].guard?.guard === 'snapshot-budget';
    });
    await new Promise((r) => setTimeout(r, 3000));
    for (const svc of ['web', 'marker', 'burst']) expect(await h.seByService(svc)).toBeDefined();
    const metrics = (await h.http<string>(basePort, '/metrics')).body;
    expect(metrics).toMatch(/registry_bridge_guard_trips_total\{source="consul-dc1",guard="snapshot-budget"\} [1-9]/);
    // Restore the inventory for the next tests.
    await h.producer.snapshot({ source: { name: 'consul-dc1', kind: 'consul' }, epoch: 3, complete: true, services: ['web', 'marker', 'burst', 'db'].map((service) => ({ service })), observedAt: new Date().toISOString() });
  });

  it('repairs a hand edit and a hand delete on the next full reconcile', async () => {
    const web = (await h.seByService('web')) as SE;
    await h.admin.apply({ apiVersion: 'networking.istio.io/v1', kind: 'ServiceEntry', metadata: { name: web.metadata.name, namespace: h.namespace }, spec: { hosts: ['web.service.consul'], ports: [{ number: 8080, name: 'http', protocol: 'HTTP' }], resolution: 'STATIC', endpoints: [{ address: '10.66.6.6' }] } } as KubeObject);
    const marker = present(await h.seByService('marker'));
    await h.admin.delete('networking.istio.io/v1', 'ServiceEntry', h.namespace, marker.metadata.name);
    await waitFor('web repaired', async () => addresses((await h.seByService('web')) as SE).join() === '10.0.0.1,10.0.0.3', 30_000);
    await waitFor('marker recreated', () => h.seByService('marker'), 30_000);
  });

  it('restarts without deleting or rewriting anything', async () => {
    const before = new Map((await h.ses()).map((o) => [o.metadata.name, ours(o)]));
    await h.stopWriter(writer.proc);
    writer = h.startWriter(configFile, basePort + 1);
    await waitFor('restarted writer to lead', async () => (await h.http<{ leader: boolean; lastResync: unknown }>(basePort + 1, '/status')).body.lastResync, 30_000, 250);
    await new Promise((r) => setTimeout(r, 7000)); // past one more full resync
    const after = new Map((await h.ses()).map((o) => [o.metadata.name, ours(o)]));
    expect(after).toEqual(before);
  });

  it('fails over to a standby that takes over the lease and keeps writing', async () => {
    const standbyPort = basePort + 2;
    h.startWriter(configFile, standbyPort);
    await waitFor('standby up', async () => (await h.http(standbyPort, '/health/live')).status === 200, 30_000, 250);
    expect((await h.http<{ leader: boolean }>(standbyPort, '/status')).body.leader).toBe(false);
    const killedAt = Date.now();
    await h.stopWriter(writer.proc, 'SIGKILL');
    await waitFor('standby to lead', async () => (await h.http<{ leader: boolean }>(standbyPort, '/status')).body.leader, 30_000, 250);
    const takeoverMs = Date.now() - killedAt;
    expect(takeoverMs).toBeLessThan(15_000 + 2_000);
    await h.producer.upsert(consulRecord('after-failover', 1, [{ id: 'a', address: '10.5.0.1', health: 'healthy' }]));
    await waitFor('after-failover SE', () => h.seByService('after-failover'));
    const ready = await h.http<{ details: Record<string, { status: string }> }>(standbyPort, '/health/ready');
    expect(ready.body.details['kubernetes'].status).toBe('up');
    expect(ready.body.details['redis'].status).toBe('up');
  });

  it('serves the queue dashboard only with the configured credentials, and never logs the password', async () => {
    const port = basePort + 2;
    expect((await fetch(`http://127.0.0.1:${port}/queues/api/queues`)).status).toBe(401);
    const auth = `Basic ${Buffer.from(`admin:${h.dashboardPassword}`).toString('base64')}`;
    const res = await fetch(`http://127.0.0.1:${port}/queues/api/queues`, { headers: { authorization: auth } });
    expect(res.status).toBe(200);
    const names = ((await res.json()) as { queues: Array<{ name: string }> }).queues.map((q) => q.name).sort();
    expect(names).toEqual(['rb-dead-letter', 'rb-ingest', 'rb-reconcile']);
    expect(h.logs.join('')).not.toContain(h.dashboardPassword);
  });

  it('refuses to start on a bad config value and names the key', async () => {
    const bad = h.config({ deletion: { gracePeriodSeconds: -5 } });
    const { proc } = h.startWriter(bad, basePort + 3);
    const code = await new Promise<number | null>((r) => proc.once('exit', r));
    expect(code).toBe(1);
    expect(h.logs.join('')).toMatch(/deletion\.gracePeriodSeconds/);
  });
});
