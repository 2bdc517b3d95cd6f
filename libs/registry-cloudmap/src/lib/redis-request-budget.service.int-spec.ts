import { loadPeersEnv } from '@registry-bridge/test-peers';
import { Redis } from 'ioredis';
import { randomBytes } from 'node:crypto';
import { cloudMapSourceSchema } from './cloudmap-config.schema';
import { RedisRequestBudget } from './redis-request-budget.service';

describe('RedisRequestBudget against Redis', () => {
  let redis: Redis;
  beforeAll(async () => {
    const peers = await loadPeersEnv({ peers: ['redis'] });
    redis = new Redis(peers.redisUrl, { maxRetriesPerRequest: 1 });
  });
  afterAll(async () => {
    await redis?.quit();
  });

  const config = cloudMapSourceSchema.parse({ name: 'cm', region: 'eu-west-1', budget: { DiscoverInstances: { rps: 40, burst: 10 } } });

  it('three replicas hammering one bucket get burst + rps * t tokens between them, no more, booked in batches', async () => {
    const source = `budget-${randomBytes(4).toString('hex')}`;
    let scripts = 0;
    const counting = { eval: (...a: Parameters<Redis['eval']>) => (scripts++, redis.eval(...a)) };
    const replicas = [0, 1, 2].map(() => new RedisRequestBudget(counting, source, config));
    const grants: number[] = [];
    const start = Date.now();
    const until = start + 2000;
    await Promise.all(
      replicas.flatMap((b) =>
        Array.from({ length: 8 }, async () => {
          while (Date.now() < until) {
            await b.take('DiscoverInstances');
            if (Date.now() < until) grants.push(Date.now());
          }
        }),
      ),
    );
    const seconds = (until - start) / 1000;
    expect(grants.length).toBeLessThanOrEqual(10 + 40 * seconds + 1);
    expect(grants.length).toBeGreaterThanOrEqual(40 * seconds * 0.8);
    // one round trip books up to the burst (10) for a replica's 8 waiters: not one or more per request
    expect(scripts).toBeLessThan(grants.length / 4);
  });

  it('a throttle seen by one replica slows all of them, and the rate recovers', async () => {
    const source = `budget-${randomBytes(4).toString('hex')}`;
    const [a, b] = [new RedisRequestBudget(redis, source, config), new RedisRequestBudget(redis, source, config)];
    await a.take('DiscoverInstances');
    expect(await a.penalize('DiscoverInstances')).toBeCloseTo(0.5, 2);
    expect(await b.penalize('DiscoverInstances')).toBeCloseTo(0.25, 2);
    const grant = await b.take('DiscoverInstances');
    // the bucket was drained: the first token after a throttle waits ~1/(40 * 0.25) s
    expect(grant.waitedMs).toBeGreaterThanOrEqual(50);
    expect(grant.factor).toBeCloseTo(0.25, 2);
    // the factor recovers with time; a replica booking later sees more than the quarter (b's own
    // booked tokens carry the factor they were booked at, and a booking in the same millisecond
    // as the throttle sees exactly 0.25)
    await new Promise((r) => setTimeout(r, 200));
    const later = await new RedisRequestBudget(redis, source, config).take('DiscoverInstances');
    expect(later.factor).toBeGreaterThan(0.25);
    expect(later.factor).toBeLessThan(0.5);
    expect(await redis.pttl(a.key('DiscoverInstances'))).toBeGreaterThan(0);
  });
});
