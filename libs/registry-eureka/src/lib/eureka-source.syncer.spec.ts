import { messageSchema } from '@registry-bridge/contract';
import { RecordProducer } from '@registry-bridge/contract';
import type { EurekaInstanceJson } from './eureka-payload';
import { EurekaRestClient } from './eureka-rest.client';
import { EurekaSourceSyncer, type EurekaSyncHooks } from './eureka-source.syncer';
import * as normalizer from './eureka-normalizer';
import * as eurekaPayload from './eureka-payload';
import { T0, testInstance } from './eureka-instances.testing';
import { FakeEurekaServer } from './fake-eureka.testing';
import { reconcileHashCode } from './reconcile-hash';

type Sent = { name: string; data: Record<string, unknown> };

const inst = testInstance;
const apps = (instances: EurekaInstanceJson[], hash = reconcileHashCode([instances])) => ({
  applications: {
    versions__delta: '1',
    apps__hashcode: hash,
    application: [...new Set(instances.map((i) => i.app))].map((name) => ({ name, instance: instances.filter((i) => i.app === name) })),
  },
});

describe('EurekaSourceSyncer', () => {
  const server = new FakeEurekaServer();
  let url: string;
  let sent: Sent[];
  let now: number;
  let failSink: string | undefined;
  const counts: Record<string, number> = {};
  const hooks: EurekaSyncHooks = {
    hashMismatch: () => void (counts['mismatch'] = (counts['mismatch'] ?? 0) + 1),
    fullFetch: (reason) => void (counts[`full:${reason}`] = (counts[`full:${reason}`] ?? 0) + 1),
    deltaApplied: () => void (counts['delta'] = (counts['delta'] ?? 0) + 1),
  };
  let syncer: EurekaSourceSyncer;
  let client: EurekaRestClient;

  // The real producer validates every message against the contract before "sending" it.
  const producer = () =>
    new RecordProducer({
      add: async (name, data) => {
        if (failSink === name) throw new Error('redis down');
        expect(messageSchema.safeParse(data).success).toBe(true);
        sent.push({ name, data: data as Record<string, unknown> });
      },
    });
  const of = (name: string) => sent.filter((s) => s.name === name);

  beforeAll(async () => {
    url = await server.start();
  });
  afterAll(() => server.stop());
  beforeEach(() => {
    sent = [];
    now = T0;
    failSink = undefined;
    for (const k of Object.keys(counts)) delete counts[k];
    client = new EurekaRestClient({ serviceUrls: [url] });
    syncer = new EurekaSourceSyncer(client, producer(), { source: 'eureka-a', dashboardPath: undefined, fullFetchIntervalMs: 300_000, deltaRetentionMs: 150_000 }, hooks, undefined, () => now);
  });
  afterEach(() => client.close());

  it('starts with a full fetch: upserts, a complete snapshot, a reachable status', async () => {
    server.json({ '/apps': apps([inst('ORDERS', 'o1'), inst('ORDERS', 'o2', 'DOWN'), inst('PAY', 'p1')]) });
    const r = await syncer.syncOnce();
    expect(r).toMatchObject({ mode: 'full', fullReason: 'start', upserts: 2, removes: 0, snapshot: true });
    expect(of('upsert').map((s) => (s.data['record'] as { service: string }).service)).toEqual(['orders', 'pay']);
    expect(of('snapshot')[0].data).toMatchObject({ complete: true, services: [{ service: 'orders' }, { service: 'pay' }] });
    expect(of('sourceStatus')[0].data).toMatchObject({ reachable: true, conditions: { selfPreservation: 'unknown', applications: 2 } });
    const order = sent.map((s) => s.name);
    expect(order.indexOf('snapshot')).toBeGreaterThan(order.lastIndexOf('upsert'));
  });

  it('applies a delta and emits only what really changed', async () => {
    const o1 = inst('ORDERS', 'o1');
    const p1 = inst('PAY', 'p1');
    server.json({ '/apps': apps([o1, p1]), '/apps/delta': apps([], 'UP_2_') });
    await syncer.syncOnce();
    const firstRevision = (of('upsert')[0].data['record'] as { revision: number }).revision;
    sent = [];
    now += 10_000;
    expect(await syncer.syncOnce()).toMatchObject({ mode: 'delta', upserts: 0, unchanged: 2, snapshot: false });
    expect(of('upsert')).toHaveLength(0);

    server.json({ '/apps/delta': apps([{ ...o1, status: 'DOWN', actionType: 'MODIFIED', lastUpdatedTimestamp: String(now) }], 'DOWN_1_UP_1_') });
    now += 10_000;
    expect(await syncer.syncOnce()).toMatchObject({ mode: 'delta', upserts: 1, hashMismatch: false });
    const rec = of('upsert')[0].data['record'] as { service: string; revision: number; endpoints: { health: string }[] };
    expect(rec.service).toBe('orders');
    expect(rec.endpoints[0].health).toBe('unhealthy');
    expect(rec.revision).toBeGreaterThan(firstRevision);
    expect(counts['delta']).toBe(2);
  });

  it('refetches everything when the hash after a delta disagrees with the server', async () => {
    server.json({ '/apps': apps([inst('ORDERS', 'o1')]), '/apps/delta': apps([], 'DOWN_1_UP_1_') });
    await syncer.syncOnce();
    server.json({ '/apps': apps([inst('ORDERS', 'o1'), inst('ORDERS', 'o2', 'DOWN')]), '/apps/delta': apps([], 'DOWN_1_UP_1_') });
    now += 10_000;
    expect(await syncer.syncOnce()).toMatchObject({ mode: 'full', fullReason: 'hash_mismatch', hashMismatch: true, upserts: 1, snapshot: true });
    expect(counts['mismatch']).toBe(1);
  });

  it('falls back to a full fetch when the server refuses deltas', async () => {
    server.json({ '/apps': apps([inst('ORDERS', 'o1')]), '/apps/delta': 403 });
    await syncer.syncOnce();
    now += 10_000;
    expect(await syncer.syncOnce()).toMatchObject({ mode: 'full', fullReason: 'delta_refused' });
  });

  it('does a full fetch periodically and after a gap longer than the delta retention', async () => {
    server.json({ '/apps': apps([inst('ORDERS', 'o1')]), '/apps/delta': apps([], 'UP_1_') });
    await syncer.syncOnce();
    now += 200_000;
    expect(await syncer.syncOnce()).toMatchObject({ mode: 'full', fullReason: 'delta_missed' });
    now += 300_000;
    expect(await syncer.syncOnce()).toMatchObject({ mode: 'full', fullReason: 'periodic' });
  });

  it('on an unreachable server sends only reachable=false: no snapshot, no removes', async () => {
    server.json({ '/apps': apps([inst('ORDERS', 'o1')]), '/apps/delta': 500 });
    await syncer.syncOnce();
    sent = [];
    now += 10_000;
    expect(await syncer.syncOnce()).toBeUndefined();
    expect(sent.map((s) => s.name)).toEqual(['sourceStatus']);
    expect(sent[0].data).toMatchObject({ reachable: false, lastSuccessAt: new Date(T0).toISOString() });
    expect(String(sent[0].data['error'])).toMatch(/HTTP 500/);
  });

  it('treats an unparseable or unauthorized answer as unreachable too', async () => {
    server.handler = (_req, res) => res.writeHead(200).end('<html>login</html>');
    expect(await syncer.syncOnce()).toBeUndefined();
    server.json({ '/apps': 401 });
    expect(await syncer.syncOnce()).toBeUndefined();
    expect(sent.map((s) => [s.name, s.data['reachable']])).toEqual([
      ['sourceStatus', false],
      ['sourceStatus', false],
    ]);
  });

  it('removes an app whose last instance was cancelled, with a revision above the last one', async () => {
    const o1 = inst('ORDERS', 'o1', 'UP', { lastDirtyTimestamp: String(T0 + 50_000) });
    server.json({ '/apps': apps([o1, inst('PAY', 'p1')]), '/apps/delta': apps([{ ...o1, actionType: 'DELETED' }], 'UP_1_') });
    await syncer.syncOnce();
    const last = (of('upsert')[0].data['record'] as { revision: number }).revision;
    sent = [];
    now += 5_000;
    expect(await syncer.syncOnce()).toMatchObject({ mode: 'delta', removes: 1 });
    expect(of('remove')[0].data).toMatchObject({ service: 'orders' });
    expect(of('remove')[0].data['revision'] as number).toBeGreaterThan(last);
  });

  it('repeats the full fetch when the snapshot could not be sent', async () => {
    server.json({ '/apps': apps([inst('ORDERS', 'o1')]), '/apps/delta': apps([], 'UP_1_') });
    failSink = 'snapshot';
    await expect(syncer.syncOnce()).rejects.toThrow(/redis down/);
    failSink = undefined;
    now += 1000;
    expect(await syncer.syncOnce()).toMatchObject({ mode: 'full', snapshot: true, upserts: 0 });
  });

  it('skips apps outside the allow list and keeps them out of the snapshot', async () => {
    syncer = new EurekaSourceSyncer(client, producer(), { source: 'eureka-a', dashboardPath: undefined, apps: { exclude: ['pay*'] } }, hooks, undefined, () => now);
    server.json({ '/apps': apps([inst('ORDERS', 'o1'), inst('PAYMENTS', 'p1')]) });
    await syncer.syncOnce();
    expect(of('snapshot')[0].data['services']).toEqual([{ service: 'orders' }]);
  });

  it('after reset (lease lost and regained) starts over with a full fetch and re-emits', async () => {
    server.json({ '/apps': apps([inst('ORDERS', 'o1')]), '/apps/delta': apps([], 'UP_1_') });
    await syncer.syncOnce();
    syncer.reset();
    sent = [];
    expect(await syncer.syncOnce()).toMatchObject({ mode: 'full', fullReason: 'start', upserts: 1 });
  });
});

describe('EurekaSourceSyncer normalizes only what a delta touched', () => {
  const server = new FakeEurekaServer();
  let url: string;
  let client: EurekaRestClient;
  let sent: Sent[];
  let now: number;
  let failUpsertOf: string | undefined;
  let syncer: EurekaSourceSyncer;
  let normalizeApp: jest.SpyInstance<ReturnType<typeof normalizer.normalizeApp>, Parameters<typeof normalizer.normalizeApp>>;
  const normalized = () => normalizeApp.mock.calls.map((c) => c[0]).sort();
  const of = (name: string) => sent.filter((s) => s.name === name);

  beforeAll(async () => {
    url = await server.start();
    normalizeApp = jest.spyOn(normalizer, 'normalizeApp');
  });
  afterAll(() => {
    normalizeApp.mockRestore();
    return server.stop();
  });
  beforeEach(async () => {
    sent = [];
    now = T0;
    failUpsertOf = undefined;
    client = new EurekaRestClient({ serviceUrls: [url] });
    const producer = new RecordProducer({
      add: async (name, data) => {
        if (name === 'upsert' && (data as { record: { service: string } }).record.service === failUpsertOf) throw new Error('redis down');
        sent.push({ name, data: data as Record<string, unknown> });
      },
    });
    syncer = new EurekaSourceSyncer(client, producer, { source: 'eureka-a', dashboardPath: undefined }, {}, undefined, () => now);
    server.json({ '/apps': apps([inst('ORDERS', 'o1'), inst('PAY', 'p1'), inst('SHIP', 's1')]), '/apps/delta': apps([], 'UP_3_') });
    normalizeApp.mockClear();
    await syncer.syncOnce();
    expect(normalized()).toEqual(['ORDERS', 'PAY', 'SHIP']);
    normalizeApp.mockClear();
    sent = [];
  });
  afterEach(() => client.close());

  it('an empty delta normalizes nothing and sends no record', async () => {
    now += 1000;
    expect(await syncer.syncOnce()).toMatchObject({ mode: 'delta', upserts: 0, removes: 0, unchanged: 3, snapshot: false });
    expect(normalized()).toEqual([]);
    expect(sent.map((s) => s.name)).toEqual(['sourceStatus']);
  });

  it('a delta that repeats changes already applied normalizes nothing', async () => {
    const down = { ...inst('PAY', 'p1', 'DOWN'), actionType: 'MODIFIED' };
    server.json({ '/apps/delta': apps([down], 'DOWN_1_UP_2_') });
    now += 1000;
    await syncer.syncOnce();
    normalizeApp.mockClear();
    sent = [];
    // A different body (one more, already forgotten, cancel) with the same change in it.
    server.json({ '/apps/delta': apps([down, { ...inst('GONE', 'g1'), actionType: 'DELETED' }], 'DOWN_1_UP_2_') });
    now += 1000;
    expect(await syncer.syncOnce()).toMatchObject({ mode: 'delta', upserts: 0, unchanged: 3 });
    expect(normalized()).toEqual([]);
    expect(sent.map((s) => s.name)).toEqual(['sourceStatus']);
  });

  it('the same delta body as last time is not even parsed, until a full fetch', async () => {
    const decode = jest.spyOn(eurekaPayload, 'decodeApplications');
    try {
      server.json({ '/apps': apps([inst('ORDERS', 'o1'), inst('PAY', 'p1', 'DOWN'), inst('SHIP', 's1')]), '/apps/delta': apps([{ ...inst('PAY', 'p1', 'DOWN'), actionType: 'MODIFIED' }], 'DOWN_1_UP_2_') });
      now += 1000;
      expect(await syncer.syncOnce()).toMatchObject({ mode: 'delta', upserts: 1 });
      decode.mockClear();
      normalizeApp.mockClear();
      now += 1000;
      expect(await syncer.syncOnce()).toMatchObject({ mode: 'delta', upserts: 0, unchanged: 3 });
      expect(decode).not.toHaveBeenCalled();
      expect(normalized()).toEqual([]);
      now += 300_000;
      expect(await syncer.syncOnce()).toMatchObject({ mode: 'full', fullReason: 'periodic' });
      decode.mockClear();
      now += 1000;
      expect(await syncer.syncOnce()).toMatchObject({ mode: 'delta', upserts: 0 });
      expect(decode).toHaveBeenCalledTimes(1);
    } finally {
      decode.mockRestore();
    }
  });

  it('re-normalizes the touched app only, and sends what changed', async () => {
    server.json({ '/apps/delta': apps([{ ...inst('PAY', 'p1', 'DOWN'), actionType: 'MODIFIED' }], 'DOWN_1_UP_2_') });
    now += 1000;
    expect(await syncer.syncOnce()).toMatchObject({ mode: 'delta', upserts: 1, unchanged: 2 });
    expect(normalized()).toEqual(['PAY']);
    expect(of('upsert').map((s) => (s.data['record'] as { service: string }).service)).toEqual(['pay']);
  });

  it('an app whose last instance went away is removed without touching the others', async () => {
    server.json({ '/apps/delta': apps([{ ...inst('SHIP', 's1'), actionType: 'DELETED' }], 'UP_2_') });
    now += 1000;
    expect(await syncer.syncOnce()).toMatchObject({ mode: 'delta', upserts: 0, removes: 1, unchanged: 2 });
    expect(normalized()).toEqual([]);
    expect(of('remove')[0].data).toMatchObject({ service: 'ship' });
  });

  it('a full fetch normalizes every app again', async () => {
    server.json({ '/apps': apps([inst('ORDERS', 'o1'), inst('PAY', 'p1'), inst('SHIP', 's1')]), '/apps/delta': 403 });
    now += 1000;
    expect(await syncer.syncOnce()).toMatchObject({ mode: 'full', fullReason: 'delta_refused', upserts: 0, unchanged: 3 });
    expect(normalized()).toEqual(['ORDERS', 'PAY', 'SHIP']);
  });

  it('an upsert that failed is sent on the next round even if the next delta is empty', async () => {
    server.json({ '/apps/delta': apps([{ ...inst('PAY', 'p1', 'DOWN'), actionType: 'MODIFIED' }], 'DOWN_1_UP_2_') });
    failUpsertOf = 'pay';
    now += 1000;
    await expect(syncer.syncOnce()).rejects.toThrow(/redis down/);
    failUpsertOf = undefined;
    server.json({ '/apps/delta': apps([], 'DOWN_1_UP_2_') });
    now += 1000;
    normalizeApp.mockClear();
    expect(await syncer.syncOnce()).toMatchObject({ mode: 'delta', upserts: 1, unchanged: 2 });
    expect(normalized()).toEqual([]);
    expect((of('upsert')[0].data['record'] as { endpoints: { health: string }[] }).endpoints[0].health).toBe('unhealthy');
  });

  it('a touched app whose record did not change (a re-registration) is normalized again but not sent', async () => {
    server.json({ '/apps/delta': apps([{ ...inst('ORDERS', 'o1', 'UP', { lastUpdatedTimestamp: String(T0) }), actionType: 'MODIFIED' }], 'UP_3_') });
    now += 1000;
    expect(await syncer.syncOnce()).toMatchObject({ mode: 'delta', upserts: 0, unchanged: 3 });
    expect(normalized()).toEqual(['ORDERS']);
    expect(sent.map((s) => s.name)).toEqual(['sourceStatus']);
  });
});

describe('EurekaSourceSyncer when the registry suddenly reads empty', () => {
  const server = new FakeEurekaServer();
  let url: string;
  beforeAll(async () => {
    url = await server.start();
  });
  afterAll(() => server.stop());

  it('holds removals and the snapshot for emptyHoldMs (a restarted server), then believes it', async () => {
    let now = T0;
    const sent: Sent[] = [];
    const client = new EurekaRestClient({ serviceUrls: [url] });
    const producer = new RecordProducer({ add: async (name, data) => void sent.push({ name, data: data as Record<string, unknown> }) });
    const syncer = new EurekaSourceSyncer(client, producer, { source: 'eureka-a', dashboardPath: undefined, emptyHoldMs: 60_000 }, {}, undefined, () => now);
    server.json({ '/apps': apps([inst('ORDERS', 'o1'), inst('PAY', 'p1')]), '/apps/delta': apps([], 'UP_2_') });
    await syncer.syncOnce();

    // The server restarts: full registry and deltas are empty.
    server.json({ '/apps': apps([]), '/apps/delta': 403 });
    sent.length = 0;
    now += 10_000;
    expect(await syncer.syncOnce()).toMatchObject({ mode: 'full', emptyHeld: true, removes: 0, snapshot: false });
    expect(sent.map((s) => s.name)).toEqual(['sourceStatus']);
    expect(sent[0].data).toMatchObject({ reachable: true, conditions: { emptyRegistryHeld: true } });

    // One client re-registers within the hold: normal service resumes, the other is removed.
    server.json({ '/apps': apps([inst('ORDERS', 'o1')]), '/apps/delta': 403 });
    now += 10_000;
    expect(await syncer.syncOnce()).toMatchObject({ removes: 1, snapshot: true });

    // Truly empty: believed once the hold has passed.
    server.json({ '/apps': apps([]), '/apps/delta': 403 });
    now += 10_000;
    expect(await syncer.syncOnce()).toMatchObject({ emptyHeld: true });
    now += 60_000;
    expect(await syncer.syncOnce()).toMatchObject({ removes: 1, snapshot: true });
    expect(sent.filter((s) => s.name === 'snapshot').at(-1)?.data['services']).toEqual([]);
    client.close();
  });
});
