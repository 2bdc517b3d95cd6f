import { createRedisConnection, redisConfigSchema } from '@registry-bridge/app-config';
import { loadPeersEnv } from '@registry-bridge/test-peers';
import { WriterConfig } from '@registry-bridge/config/writer';
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { ReconcileQueue } from '../app/reconcile-queue.service';
import { WriterConnections } from '../app/writer-connections.service';

// The reconcile queue's scheduling on the real Redis and BullMQ: what a held key's comeback and the
// deduplication really do.
let redis: Redis;
let connections: WriterConnections;
let queue: ReconcileQueue;
const prefix = `{rbrq-${randomBytes(3).toString('hex')}}`;

beforeAll(async () => {
  const peers = await loadPeersEnv({ peers: ['redis'] });
  redis = createRedisConnection(redisConfigSchema.parse({ url: peers.redisUrl, prefix })) as Redis;
  connections = new WriterConnections(redis, { redis: { prefix } } as WriterConfig);
  queue = new ReconcileQueue(connections);
});

afterAll(async () => {
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length) await redis.del(...keys);
  await connections.onApplicationShutdown();
});

describe('ReconcileQueue on the real Redis', () => {
  it('schedules a held key to come back later, one timer per key', async () => {
    const key = 'consul-dc1//held:with/odd chars';
    await queue.enqueueKey(key, 60_000);
    await queue.enqueueKey(key, 60_000);
    await queue.enqueueKey('consul-dc1//other', 60_000);
    const delayed = await connections.queue('reconcile').getDelayed();
    expect(delayed.map((j) => [j.name, j.data.key]).sort()).toEqual([
      ['requeue', 'consul-dc1//held:with/odd chars'],
      ['requeue', 'consul-dc1//other'],
    ]);
  });

  it('keeps one pending reconcile per key and one garbage collection per source', async () => {
    await queue.enqueueKey('consul-dc1//web');
    await queue.enqueueKey('consul-dc1//web');
    await queue.enqueueSourceGc('consul-dc1');
    await queue.enqueueSourceGc('consul-dc1');
    const waiting = await connections.queue('reconcile').getWaiting();
    expect(waiting.map((j) => `${j.name} ${j.data.key ?? j.data.source}`).sort()).toEqual(['service consul-dc1//web', 'source-gc consul-dc1']);
  });
});
