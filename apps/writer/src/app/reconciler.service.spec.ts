import { ServiceRecord } from '@registry-bridge/contract';
import { KubeClient, KubeError, KubeObject } from '@registry-bridge/kube';
import { MetricsService } from '@registry-bridge/observability';
import { ANNOTATIONS, LABELS, sourceRules } from '@registry-bridge/translation';
import { writerConfigSchema } from '@registry-bridge/config/writer';
import pino from 'pino';
import { FakeEvents, FakeKube, FakeState } from '../testing/writer-fakes';
import { DeletionLimits, DeletionPolicy } from './deletion.policy';
import { REFUSED_ANNOTATION } from './emptied-service-entry';
import { HostIndex } from './host-index.service';
import { ObjectCache } from './object-cache.service';
import { NotLeaderError, ObjectWriter } from './object-writer.service';
import { Reconciler } from './reconciler.service';
import { KeyState } from './state-store.service';
import { StatusBoard } from './status-board.service';
import { WriterMetrics } from './writer-metrics.service';

const NS = 'mesh';
const WEB = 'consul-dc1//web';
const LEASE = { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', namespace: 'rb', name: 'writer' };

const ep = (address: string, id = address) => ({ id, address, ports: {}, labels: {}, health: 'healthy' as const });
function record(service: string, endpoints = [ep('10.0.0.1')], over: Partial<ServiceRecord> = {}): ServiceRecord {
  const source = service.startsWith('eu-') ? { name: 'eureka-a', kind: 'eureka' as const } : { name: 'consul-dc1', kind: 'consul' as const };
  return { source, service, ports: [{ name: 'http', number: 8080, protocol: 'HTTP' }], endpoints, metadata: {}, revision: 1, observedAt: new Date(Date.now() - 1000).toISOString(), ...over };
}

/** The Reconciler over fakes of its ports: the API server, the Redis state, the lease; the rest is the real code. */
function setup(deletion: Partial<DeletionLimits> = {}) {
  const cfg = writerConfigSchema.parse({
    installation: 'it',
    redis: { url: 'redis://127.0.0.1:1' },
    defaults: { namespace: NS },
    events: { applied: true },
    deletion: { gracePeriodSeconds: 60, maxDeletes: 2, maxDeletePercent: 0, windowSeconds: 300, sourceSilenceSeconds: 60, ...deletion },
    sources: {
      'consul-dc1': { kind: 'consul' },
      'eureka-a': { kind: 'eureka', endpointMode: 'workloadEntry' },
      'consul-strict': { kind: 'consul', allowedHostSuffixes: ['.internal'] },
    },
  });
  const kube = new FakeKube();
  const state = new FakeState();
  const events = new FakeEvents();
  const lease = { leader: true, isLeader: () => lease.leader };
  const log = pino({ level: 'silent' });
  const metrics = new WriterMetrics(new MetricsService());
  const hosts = new HostIndex(state);
  const cache = new ObjectCache(kube as unknown as KubeClient, [NS], 'it', log, hosts, () => undefined);
  const objects = new ObjectWriter(kube, cache, lease, metrics, log, { recorder: events, fallback: LEASE });
  const board = new StatusBoard(metrics);
  const reconciler = new Reconciler(state, sourceRules(cfg), cfg, metrics, log, objects, hosts, new DeletionPolicy(cfg.deletion), board);
  const now = Date.now();
  const reachable = (source = 'consul-dc1') => state.statuses.set(source, { reachable: true, conditions: {}, observedAt: now, heardAt: now });
  const snapshot = (source: string, keys: string[]) => state.snapshots.set(source, { epoch: 1, complete: true, observedAt: now - 500, keys: new Set(keys) });
  const upsert = (rec: ServiceRecord, over: Partial<KeyState> = {}) => {
    const key = `${rec.source.name}//${rec.service}`;
    const cur = state.states.get(key);
    state.seed({ ...cur, key, revision: rec.revision, lineage: '', observedAt: Date.parse(rec.observedAt), deleted: false, record: rec, ...over });
    return key;
  };
  /** The registry removed the key (ingest's tombstone), `agoMs` before now. */
  const remove = (key: string, agoMs: number) => {
    const cur = state.states.get(key);
    state.seed({ ...(cur as KeyState), deleted: true, record: undefined, removedAt: now - agoMs, observedAt: now - agoMs });
  };
  const ses = () => kube.all('ServiceEntry').filter((o) => o.metadata.namespace === NS);
  const metric = async (name: string) => (await metrics.metrics.registry.getSingleMetric(name)?.get())?.values ?? [];
  cache.start();
  return { kube, state, events, lease, board, cache, reconciler, now, reachable, snapshot, upsert, remove, ses, metric };
}

/** A key written, then removed `agoMs` ago, with a reachable source whose complete snapshot no longer lists it. */
async function removable(t: ReturnType<typeof setup>, agoMs = 120_000, service = 'web') {
  const key = t.upsert(record(service));
  expect((await t.reconciler.reconcile(key)).action).toBe('applied');
  t.reachable();
  t.snapshot('consul-dc1', ['consul-dc1//other']);
  t.remove(key, agoMs);
  return key;
}

describe('Reconciler: apply', () => {
  it('creates the ServiceEntry, claims its host, records what it applied, and says so once', async () => {
    const t = setup();
    const key = t.upsert(record('web'));
    expect(await t.reconciler.reconcile(key)).toEqual({ action: 'applied' });
    const [se] = t.ses();
    expect(se.spec).toMatchObject({ hosts: ['web.service.consul'], resolution: 'STATIC', endpoints: [{ address: '10.0.0.1' }] });
    expect(se.metadata.annotations?.[ANNOTATIONS.serviceKey]).toBe(WEB);
    expect(t.state.hosts.get('web.service.consul')).toBe(WEB);
    expect(t.state.states.get(key)).toMatchObject({ name: se.metadata.name, namespace: NS, host: 'web.service.consul', appliedHash: se.metadata.annotations?.[ANNOTATIONS.specHash] });
    expect(t.events.recorded).toEqual([expect.stringMatching(/^Normal Applied ServiceEntry\/.*: applied revision 1 of consul-dc1\/\/web$/)]);
  });

  it('writes nothing for an unchanged record and updates the same object (its uid) for a changed one', async () => {
    const t = setup();
    const key = t.upsert(record('web'));
    await t.reconciler.reconcile(key);
    const uid = t.ses()[0].metadata.uid;
    expect(await t.reconciler.reconcile(key)).toEqual({ action: 'noop' });
    expect(t.kube.writes).toHaveLength(1);
    t.upsert(record('web', [ep('10.0.0.1'), ep('10.0.0.2')], { revision: 2 }));
    expect(await t.reconciler.reconcile(key)).toEqual({ action: 'applied' });
    expect(t.kube.writes).toHaveLength(2);
    expect(t.ses()).toHaveLength(1);
    expect(t.ses()[0].metadata.uid).toBe(uid);
    expect((t.ses()[0].spec as { endpoints: unknown[] }).endpoints).toHaveLength(2);
  });

  it('in workloadEntry mode writes one WorkloadEntry per instance and deletes the one whose instance left', async () => {
    const t = setup();
    const key = t.upsert(record('eu-orders', [ep('10.1.0.1', 'a'), ep('10.1.0.2', 'b')]));
    expect((await t.reconciler.reconcile(key)).action).toBe('applied');
    expect(t.kube.all('WorkloadEntry').map((w) => (w.spec as { address: string }).address).sort()).toEqual(['10.1.0.1', '10.1.0.2']);
    t.upsert(record('eu-orders', [ep('10.1.0.1', 'a')], { revision: 2 }));
    expect((await t.reconciler.reconcile(key)).action).toBe('applied');
    expect(t.kube.all('WorkloadEntry').map((w) => (w.spec as { address: string }).address)).toEqual(['10.1.0.1']);
    expect(t.kube.writes.filter((w) => w.startsWith('delete WorkloadEntry'))).toHaveLength(1);
  });

  it('reports a key with no state as gone and a source that is not configured as refused, writing nothing', async () => {
    const t = setup();
    expect(await t.reconciler.reconcile('consul-dc1//never')).toEqual({ action: 'gone' });
    expect(await t.reconciler.reconcile('elsewhere//web')).toMatchObject({ action: 'refused', reason: 'source elsewhere is not configured' });
    expect(t.kube.writes).toEqual([]);
  });

  it('writes nothing once the lease is lost: NotLeaderError, for the next leader to retry', async () => {
    const t = setup();
    const key = t.upsert(record('web'));
    t.lease.leader = false;
    await expect(t.reconciler.reconcile(key)).rejects.toBeInstanceOf(NotLeaderError);
    expect(t.kube.writes).toEqual([]);
  });
});

describe('Reconciler: refuse', () => {
  it('refuses a host outside the allow-list without writing, reported on the board and as an Event on the Lease', async () => {
    const t = setup();
    const key = t.upsert({ ...record('api'), source: { name: 'consul-strict', kind: 'consul' } });
    expect(await t.reconciler.reconcile(key)).toMatchObject({ action: 'refused', reason: expect.stringMatching(/^host-not-allowed: /) });
    expect(t.kube.writes).toEqual([]);
    expect(t.board.refusal(key)?.reason).toBe('host-not-allowed');
    expect(t.state.states.get(key)?.refused).toMatch(/^host-not-allowed: /);
    expect(t.events.recorded).toEqual([expect.stringMatching(/^Warning Refused Lease\/writer: consul-strict\/\/api: host-not-allowed/)]);
  });

  it('refuses a host another ServiceEntry (not ours) already uses, and one another key claimed', async () => {
    const t = setup();
    t.cache.remember('ServiceEntry', t.kube.put({ apiVersion: 'networking.istio.io/v1', kind: 'ServiceEntry', metadata: { name: 'theirs', namespace: NS }, spec: { hosts: ['web.service.consul'] } }));
    const key = t.upsert(record('web'));
    expect(await t.reconciler.reconcile(key)).toMatchObject({ action: 'refused', reason: expect.stringContaining('already used by ServiceEntry mesh/theirs') });
    t.state.hosts.set('db.service.consul', 'consul-dc1//other-db');
    t.state.seed({ key: 'consul-dc1//other-db', revision: 1, lineage: '', observedAt: 1, deleted: false, appliedHash: 'h' });
    const db = t.upsert(record('db'));
    expect(await t.reconciler.reconcile(db)).toMatchObject({ action: 'refused', reason: 'host-collision: host db.service.consul is already claimed by service consul-dc1//other-db' });
    expect(t.kube.writes).toEqual([]);
  });

  it('leaves alone an object with its name that is not ours, and gives the host back', async () => {
    const t = setup();
    const key = t.upsert(record('web'));
    await t.reconciler.reconcile(key);
    const [se] = t.ses();
    const foreign = { ...se, metadata: { name: se.metadata.name, namespace: NS, labels: { team: 'x' } }, spec: { hosts: ['other.example'] } } as KubeObject;
    t.kube.objects.clear();
    t.cache.remember('ServiceEntry', t.kube.put(foreign));
    t.upsert(record('web', [ep('10.0.0.9')], { revision: 2 }));
    expect(await t.reconciler.reconcile(key)).toMatchObject({ action: 'refused', reason: expect.stringMatching(/^name-collision: /) });
    expect(t.kube.find('ServiceEntry', NS, se.metadata.name)?.spec).toEqual({ hosts: ['other.example'] });
    expect(t.state.hosts.has('web.service.consul')).toBe(false);
  });

  it('refuses what the API server rejects for good (422) and does not send the same object again', async () => {
    const t = setup();
    t.kube.reject = () => new KubeError(422, 'apply', 'ServiceEntry', 'denied by admission policy');
    const key = t.upsert(record('web'));
    expect(await t.reconciler.reconcile(key)).toMatchObject({ action: 'refused', reason: expect.stringMatching(/^rejected: the API server rejected it/) });
    t.kube.reject = undefined;
    expect((await t.reconciler.reconcile(key)).action).toBe('refused');
    expect(t.kube.writes).toEqual([]);
    t.upsert(record('web', [ep('10.0.0.2')], { revision: 2 }));
    expect((await t.reconciler.reconcile(key)).action).toBe('applied');
  });

  it('lets a retryable API error through for the queue to retry', async () => {
    const t = setup();
    t.kube.reject = () => new KubeError(503, 'apply', 'ServiceEntry', 'unavailable');
    await expect(t.reconciler.reconcile(t.upsert(record('web')))).rejects.toThrow(/HTTP 503/);
  });
});

describe('Reconciler: refused after it was written', () => {
  async function writtenThenRefused(t: ReturnType<typeof setup>) {
    const key = t.upsert(record('web', [ep('10.0.0.1'), ep('10.0.0.2')]));
    await t.reconciler.reconcile(key);
    t.reachable();
    t.snapshot('consul-dc1', [key]);
    // No usable port any more while instances remain: refused, and its object must not keep serving.
    t.upsert(record('web', [ep('10.0.0.1')], { revision: 2, ports: [] }));
    return key;
  }

  it('empties the object at once (no endpoints, STATIC, the reason annotated) and holds its deletion for the grace period', async () => {
    const t = setup();
    const key = await writtenThenRefused(t);
    const outcome = await t.reconciler.reconcile(key);
    expect(outcome).toMatchObject({ action: 'refused', reason: expect.stringMatching(/^no-ports: /), retryInMs: expect.any(Number) });
    const [se] = t.ses();
    expect((se.spec as { endpoints?: unknown }).endpoints).toBeUndefined();
    expect(se.spec).toMatchObject({ hosts: ['web.service.consul'], resolution: 'STATIC' });
    expect(se.metadata.annotations?.[REFUSED_ANNOTATION]).toMatch(/^no-ports: /);
    expect(t.board.refusal(key)?.object).toEqual({ object: `${NS}/${se.metadata.name}`, state: 'emptied', held: 'grace-period: waiting for the grace period' });
    expect(t.events.recorded.some((e) => e.startsWith('Warning Emptied'))).toBe(true);
  });

  it('deletes the emptied object once the grace period since the first refusal is over, and forgets it', async () => {
    const t = setup();
    const key = await writtenThenRefused(t);
    await t.reconciler.reconcile(key);
    (t.state.states.get(key) as KeyState).refusedAt = t.now - 61_000;
    expect((await t.reconciler.reconcile(key)).action).toBe('refused');
    expect(t.ses()).toEqual([]);
    expect(t.board.refusal(key)?.object?.state).toBe('deleted');
    expect(t.state.states.get(key)).toMatchObject({ name: undefined, host: undefined });
    expect(t.state.hosts.has('web.service.consul')).toBe(false);
  });

  it('shows the object as deleted as soon as it is, before the bookkeeping in Redis that follows', async () => {
    const t = setup();
    const key = await writtenThenRefused(t);
    await t.reconciler.reconcile(key);
    (t.state.states.get(key) as KeyState).refusedAt = t.now - 61_000;
    // /status read between the API server's delete and the state updates after it (the fault suite saw 'emptied' there).
    const seen: Array<string | undefined> = [];
    for (const step of ['releaseHost', 'markRetired'] as const) {
      const original = t.state[step].bind(t.state) as (...args: unknown[]) => Promise<void>;
      (t.state as unknown as Record<string, unknown>)[step] = async (...args: unknown[]) => {
        if (t.ses().length === 0) seen.push(t.board.refusal(key)?.object?.state);
        return original(...args);
      };
    }
    await t.reconciler.reconcile(key);
    expect(t.ses()).toEqual([]);
    expect(seen).toEqual(['deleted', 'deleted']);
  });

  it('keeps a ServiceEntry empty, never deleted, when no instance is left at all', async () => {
    const t = setup({ gracePeriodSeconds: 0 });
    const key = t.upsert(record('web'));
    await t.reconciler.reconcile(key);
    t.reachable();
    t.snapshot('consul-dc1', [key]);
    t.upsert(record('web', [], { revision: 2, ports: [] }));
    expect(await t.reconciler.reconcile(key)).toEqual({ action: 'refused', reason: expect.stringMatching(/^no-ports: /), retryInMs: undefined });
    expect(t.ses()).toHaveLength(1);
    expect(t.board.refusal(key)?.object).toMatchObject({ state: 'emptied', held: 'no instances: kept empty until the service is removed' });
  });
});

describe('Reconciler: delete', () => {
  it('deletes a removed key under every rule: the object with its uid, the host claim, the state', async () => {
    const t = setup();
    const key = await removable(t);
    expect(await t.reconciler.reconcile(key)).toEqual({ action: 'deleted' });
    expect(t.ses()).toEqual([]);
    expect(t.state.states.has(key)).toBe(false);
    expect(t.state.hosts.size).toBe(0);
    expect(t.state.deletions).toHaveLength(1);
  });

  it('deletes the WorkloadEntries with their ServiceEntry', async () => {
    const t = setup();
    const key = t.upsert(record('eu-orders', [ep('10.1.0.1', 'a')]));
    await t.reconciler.reconcile(key);
    t.reachable('eureka-a');
    t.snapshot('eureka-a', []);
    t.remove(key, 120_000);
    expect((await t.reconciler.reconcile(key)).action).toBe('deleted');
    expect(t.kube.all('WorkloadEntry')).toEqual([]);
    expect(t.kube.all('ServiceEntry')).toEqual([]);
  });

  it('never deletes an object that is not ours, even under its recorded name', async () => {
    const t = setup();
    const key = await removable(t);
    const [se] = t.ses();
    t.kube.put({ ...se, metadata: { ...se.metadata, labels: { [LABELS.managedBy]: 'someone-else' } } });
    expect((await t.reconciler.reconcile(key)).action).toBe('deleted');
    expect(t.kube.find('ServiceEntry', NS, se.metadata.name)).toBeDefined();
    expect(t.kube.writes.filter((w) => w.startsWith('delete'))).toEqual([]);
  });

  type Guarded = [string, (t: ReturnType<typeof setup>, key: string) => void, string, boolean];
  it.each<Guarded>([
    ['the source was never heard from', (t) => t.state.statuses.clear(), 'source-unreachable', true],
    ['the source says it is unreachable', (t) => t.state.statuses.set('consul-dc1', { reachable: false, conditions: {}, observedAt: t.now, heardAt: t.now }), 'source-unreachable', true],
    ['the source went silent', (t) => t.state.statuses.set('consul-dc1', { reachable: true, conditions: {}, observedAt: t.now, heardAt: t.now - 61_000 }), 'source-unreachable', true],
    ['no complete snapshot', (t) => t.state.snapshots.clear(), 'no-complete-snapshot', true],
    ['the last complete snapshot still lists it', (t, key) => t.state.snapshots.set('consul-dc1', { epoch: 2, complete: true, observedAt: t.now, keys: new Set([key]) }), 'in-snapshot', false],
    ['inside the grace period', (t, key) => t.remove(key, 1000), 'grace-period', false],
    ['the deletion budget is used up', (t) => t.state.deletions.push({ source: 'consul-dc1', at: t.now }, { source: 'consul-dc1', at: t.now }), 'deletion-budget', true],
  ])('holds the deletion when %s', async (_name, arrange, guard, tripped) => {
    const t = setup();
    const key = await removable(t);
    arrange(t, key);
    const outcome = await t.reconciler.reconcile(key);
    expect(outcome).toMatchObject({ action: 'held', reason: expect.stringMatching(new RegExp(`^${guard}: `)), retryInMs: expect.any(Number) });
    expect(t.ses()).toHaveLength(1);
    expect(t.state.states.get(key)?.deleted).toBe(true);
    // A trip of a safety guard is counted and shown; waiting (grace, snapshot) is the normal path.
    const trips = await t.metric('registry_bridge_guard_trips_total');
    expect(trips.map((v) => v.labels.guard)).toEqual(tripped ? [guard] : []);
    expect(t.board.lastTrip('consul-dc1')?.guard).toBe(tripped ? guard : undefined);
  });

  it('takes the budget atomically: two keys racing for its last deletion delete one, the other is held', async () => {
    const t = setup({ maxDeletes: 1 });
    const a = await removable(t, 120_000, 'a');
    const b = await removable(t, 120_000, 'b');
    const outcomes = await Promise.all([t.reconciler.reconcile(a), t.reconciler.reconcile(b)]);
    expect(outcomes.map((o) => o.action).sort()).toEqual(['deleted', 'held']);
    expect(outcomes.find((o) => o.action === 'held')).toMatchObject({ reason: expect.stringMatching(/^deletion-budget: deletion budget of 1 per 300s/) });
    expect(t.ses()).toHaveLength(1);
    expect(t.state.deletions).toHaveLength(1);
  });
});
