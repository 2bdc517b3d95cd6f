import { createRedisConnection, redisConfigSchema } from '@registry-bridge/app-config';
import { ServiceRecord } from '@registry-bridge/contract';
import { loadPeersEnv } from '@registry-bridge/test-peers';
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { HostIndex } from '../app/host-index.service';
import { StateStore } from '../app/state-store.service';

// The compare-and-set that makes "latest wins" hold whatever the order, run on the real Redis.
let redis: Redis;
let store: StateStore;
const prefix = `{rbss-${randomBytes(3).toString('hex')}}`;

const rec = (revision: number, address: string): ServiceRecord => ({
  source: { name: 's', kind: 'consul' },
  service: 'web',
  ports: [{ name: 'http', number: 80 }],
  endpoints: [{ id: 'a', address, ports: {}, labels: {}, health: 'healthy' }],
  metadata: {},
  revision,
  observedAt: new Date(1_700_000_000_000 + revision).toISOString(),
});

beforeAll(async () => {
  const peers = await loadPeersEnv({ peers: ['redis'] });
  redis = createRedisConnection(redisConfigSchema.parse({ url: peers.redisUrl, prefix })) as Redis;
  store = new StateStore(redis, prefix);
});

afterAll(async () => {
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
});

describe('StateStore on the real Redis', () => {
  it('gives out a deletion budget atomically: 10 concurrent takes of a budget of 2 get exactly 2', async () => {
    const now = 1_700_000_100_000;
    const taken = await Promise.all(Array.from({ length: 10 }, (_, i) => store.takeDeletion('wiped', `wiped//svc-${i}`, 2, 60_000, now)));
    expect(taken.filter(Boolean)).toHaveLength(2);
    expect(await store.deletionsInWindow('wiped', 60_000, now)).toBe(2);
    // the window moves on: the old ones no longer count
    expect(await store.takeDeletion('wiped', 'wiped//svc-late', 2, 60_000, now + 60_001)).toBe(true);
    expect(await store.deletionsInWindow('wiped', 60_000, now + 60_001)).toBe(1);
  });

  it('keeps the highest revision whatever the delivery order and concurrency', async () => {
    for (let round = 0; round < 5; round++) {
      const key = `s//web-${round}`;
      const revisions = Array.from({ length: 200 }, (_, i) => i + 1).sort(() => Math.random() - 0.5);
      const results = await Promise.all(revisions.map((r) => store.put(key, 's', r, '', 1_700_000_000_000 + r, rec(r, `10.0.${r >> 8}.${r & 255}`))));
      const state = await store.get(key);
      expect(state?.revision).toBe(200);
      expect(state?.record?.endpoints[0].address).toBe('10.0.0.200');
      expect(results.filter((r) => r === 'stored').length).toBeGreaterThanOrEqual(1);
    }
  });

  it('treats a redelivery as the same, an older removal as stale, a newer removal as a tombstone', async () => {
    const key = 's//api';
    expect(await store.put(key, 's', 5, '', 1000, rec(5, '10.1.0.1'))).toBe('stored');
    expect(await store.put(key, 's', 5, '', 1000, rec(5, '10.1.0.1'))).toBe('same');
    expect(await store.put(key, 's', 4, '', 2000, undefined)).toBe('stale');
    // Same revision, later observation (Cloud Map health flips do not move the revision).
    expect(await store.put(key, 's', 5, '', 1500, rec(5, '10.1.0.2'))).toBe('stored');
    expect(await store.put(key, 's', 6, '', 3000, undefined, 42)).toBe('stored');
    const st = await store.get(key);
    expect(st).toMatchObject({ deleted: true, revision: 6, removedAt: 42 });
    expect(await store.sourceKeys('s')).toContain(key);
  });

  it('accepts a restarted counter only under a new lineage', async () => {
    const key = 's//db';
    await store.put(key, 's', 9000, 'cluster-a', 1000, rec(9000, '10.2.0.1'));
    expect(await store.put(key, 's', 3, 'cluster-a', 2000, rec(3, '10.2.0.2'))).toBe('stale');
    expect(await store.put(key, 's', 3, 'cluster-b', 2000, rec(3, '10.2.0.3'))).toBe('stored');
    expect(await store.put(key, 's', 9001, 'cluster-a', 1500, rec(9001, '10.2.0.4'))).toBe('stale');
    expect((await store.get(key))?.record?.endpoints[0].address).toBe('10.2.0.3');
  });

  it('tombstones from a snapshot only what did not change after it', async () => {
    await store.put('s//old', 's', 1, '', 1000, rec(1, '10.3.0.1'));
    await store.put('s//new', 's', 1, '', 5000, rec(1, '10.3.0.2'));
    expect(await store.tombstone('s//old', 's', 4000)).toBe(true);
    expect(await store.tombstone('s//new', 's', 4000)).toBe(false);
    expect((await store.get('s//new'))?.deleted).toBe(false);
  });

  it('gives a host to one key at a time (HostIndex claims kept in the store)', async () => {
    const hosts = new HostIndex(store);
    expect(await hosts.claim('a.service.consul', 's//a')).toBeUndefined();
    await store.put('s//a', 's', 1, '', 1, rec(1, '10.4.0.1'));
    expect(await hosts.claim('a.service.consul', 's//b')).toBe('s//a');
    await hosts.release('a.service.consul', 's//a');
    expect(await hosts.claim('a.service.consul', 's//b')).toBeUndefined();
    expect(await store.hostHolder('a.service.consul')).toBe('s//b');
  });

  it('hands a host over from a holder whose key is gone', async () => {
    const hosts = new HostIndex(store);
    expect(await hosts.claim('gone.service.consul', 's//ghost')).toBeUndefined();
    // s//ghost has no state at all: its claim is stale
    expect(await hosts.claim('gone.service.consul', 's//heir')).toBeUndefined();
    expect(await store.hostHolder('gone.service.consul')).toBe('s//heir');
  });
});
