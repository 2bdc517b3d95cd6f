import { INestApplication, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { redisConfigSchema } from '@registry-bridge/app-config';
import { QUEUES } from '@registry-bridge/contract';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { CollectorCoreModule } from './collector-core.module';
import { CollectorReadiness } from './collector-readiness';
import { MembershipService } from './membership.service';
import { SourceStatusReporter } from './source-status.reporter';

// The real Redis of `bash scripts/peers.sh up`; no Redis is a failure, never a skip.
function redisUrl(): string {
  if (process.env['RB_REDIS_URL']) return process.env['RB_REDIS_URL'];
  const file = join(process.env['RB_CACHE_DIR'] ?? join(homedir(), '.cache', 'registry-bridge'), 'peers.env');
  const line = existsSync(file) ? readFileSync(file, 'utf8').split('\n').find((l) => /^(export\s+)?RB_REDIS_URL=/.test(l)) : undefined;
  return line ? line.replace(/^(export\s+)?RB_REDIS_URL=/, '').replace(/^["']|["']$/g, '').trim() : 'redis://127.0.0.1:16379';
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const keys = Array.from({ length: 200 }, (_, i) => `consul-dc1//svc-${i}`);

async function until(cond: () => boolean, ms: number): Promise<number> {
  const started = Date.now();
  while (!cond()) {
    if (Date.now() - started > ms) throw new Error(`condition not met within ${ms}ms`);
    await sleep(50);
  }
  return Date.now() - started;
}

// A fresh prefix per run keeps runs (and parallel runs) apart.
const prefix = `{rb-test-${process.pid}-${Date.now()}}`;
let redis: Redis;

beforeAll(async () => {
  const url = redisUrl();
  redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null, connectTimeout: 2000 });
  try {
    await redis.connect();
    await redis.ping();
  } catch (err) {
    throw new Error(`Redis at ${url} is not reachable (${(err as Error).message}): run \`bash scripts/peers.sh up\``);
  }
});

afterAll(async () => {
  const left = await redis.keys(`${prefix}*`);
  if (left.length) await redis.del(...left);
  await redis.quit();
});

describe('MembershipService against real Redis', () => {
  const services: MembershipService[] = [];
  const member = (id: string, over: Partial<ConstructorParameters<typeof MembershipService>[1]> = {}) => {
    const m = new MembershipService(redis, { kind: 'consul', prefix, memberId: id, heartbeatMs: 200, ttlMs: 800, ...over });
    services.push(m);
    return m;
  };

  /** Two started members that have seen each other. */
  const pair = async (over: Partial<ConstructorParameters<typeof MembershipService>[1]> = {}) => {
    const a = member('a', over);
    const b = member('b', over);
    await a.start();
    await b.start();
    await until(() => a.members().length === 2, 2000);
    return [a, b];
  };

  afterEach(async () => {
    await Promise.all(services.splice(0).map((s) => s.close()));
  });

  it('two members see each other and split the keys disjointly and completely', async () => {
    const [a, b] = await pair();
    expect(a.members()).toEqual(['a', 'b']);
    expect(b.members()).toEqual(['a', 'b']);
    const ofA = keys.filter((k) => a.owns(k));
    const ofB = keys.filter((k) => b.owns(k));
    expect(ofA.filter((k) => ofB.includes(k))).toEqual([]);
    expect(ofA.length + ofB.length).toBe(keys.length);
    expect(ofA.length).toBeGreaterThan(60);
    expect(ofB.length).toBeGreaterThan(60);
  });

  it('a member that dies (stops heartbeating) is dropped within the TTL and the other owns everything', async () => {
    const [a, b] = await pair();
    const changes: string[][] = [];
    a.on('change', (m) => changes.push(m));
    await b.close({ leave: false });
    const took = await until(() => keys.every((k) => a.owns(k)), 3000);
    expect(took).toBeLessThan(800 + 2 * 200 + 300);
    expect(changes).toEqual([['a']]);
  });

  it('a member that leaves cleanly is gone at the next heartbeat', async () => {
    const [a, b] = await pair({ ttlMs: 10000 });
    await b.close();
    const took = await until(() => a.members().length === 1, 2000);
    expect(took).toBeLessThan(1000);
  });

  it('a lease is held by one member at a time, renewed while held, and passed on when released or expired', async () => {
    const [a, b] = await pair();
    expect(await a.leaseFor('inventory')).toBe(true);
    expect(await b.leaseFor('inventory')).toBe(false);
    expect(await a.leaseFor('inventory')).toBe(true);
    // Outlives its TTL because heartbeats renew it.
    await sleep(1500);
    expect(await b.leaseFor('inventory')).toBe(false);
    expect(a.holdsLease('inventory')).toBe(true);

    await a.releaseLease('inventory');
    expect(await b.leaseFor('inventory')).toBe(true);

    await b.close({ leave: false });
    expect(await a.leaseFor('inventory')).toBe(false);
    await sleep(900);
    expect(await a.leaseFor('inventory')).toBe(true);
  });

  it('closing releases leases so another member takes over at once', async () => {
    const [a, b] = await pair();
    expect(await a.leaseFor('snapshot:consul-dc1')).toBe(true);
    await a.close();
    expect(await b.leaseFor('snapshot:consul-dc1')).toBe(true);
    expect(await redis.zrange(`${prefix}:collector:consul:members`, 0, -1)).toEqual(['b']);
  });

  it('a member that loses its lease to expiry (no heartbeat reached Redis) is told', async () => {
    const a = member('a');
    await a.start();
    expect(await a.leaseFor('x')).toBe(true);
    const lost = new Promise<string>((resolve) => a.once('leaseLost', resolve));
    // Someone else took it over (as after a long pause of this process).
    await redis.set(`${prefix}:collector:consul:lease:x`, 'intruder');
    await expect(lost).resolves.toBe('x');
    expect(a.holdsLease('x')).toBe(false);
  });
});

describe('CollectorCoreModule in an app against real Redis', () => {
  let app: INestApplication;
  let base: string;

  beforeAll(async () => {
    @Module({
      imports: [
        CollectorCoreModule.forRootAsync({
          healthController: true,
          useFactory: () => ({ app: 'collector-test', kind: 'eureka', redis: redisConfigSchema.parse({ url: redisUrl(), prefix }), heartbeatSeconds: 1 }),
        }),
      ],
    })
    class TestCollectorModule {}
    app = await NestFactory.create(TestCollectorModule, { logger: false });
    await app.listen(0, '127.0.0.1');
    base = await app.getUrl();
  });

  afterAll(async () => {
    await app?.close();
  });

  it('joins the member set at start', async () => {
    const membership = app.get(MembershipService);
    expect(membership.members()).toEqual([membership.memberId]);
    expect(await redis.zrange(`${prefix}:collector:eureka:members`, 0, -1)).toEqual([membership.memberId]);
  });

  it('serves /health/live, and /health/ready from Redis and the registered source checks', async () => {
    expect((await fetch(`${base}/health/live`)).status).toBe(200);
    const readiness = app.get(CollectorReadiness);
    readiness.register('eureka-a', () => true);
    let res = await fetch(`${base}/health/ready`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: 'ok', info: { redis: { status: 'up' }, 'eureka-a': { status: 'up' } } });
    readiness.register('eureka-b', () => ({ ready: false, detail: 'never reached' }));
    res = await fetch(`${base}/health/ready`);
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ status: 'error', error: { 'eureka-b': { status: 'down', message: 'never reached' } } });
    readiness.unregister('eureka-b');
  });

  it('sends source status to the ingest queue and repeats it on the heartbeat', async () => {
    const queue = new Queue(QUEUES.ingest, { connection: redis.duplicate(), prefix });
    try {
      await app.get(SourceStatusReporter).report('eureka-a', { reachable: true, conditions: { selfPreservation: false } });
      await sleep(1300);
      const jobs = await queue.getJobs(['waiting']);
      const statuses = jobs.filter((j) => j.name === 'sourceStatus').map((j) => j.data);
      expect(statuses.length).toBeGreaterThanOrEqual(2);
      expect(statuses[0]).toMatchObject({ v: 1, type: 'sourceStatus', source: { name: 'eureka-a', kind: 'eureka' }, reachable: true });
      const metrics = await (await fetch(`${base}/metrics`)).text();
      expect(metrics).toMatch(/registry_bridge_collector_records_sent_total\{source="eureka-a",type="sourceStatus"\} [2-9]/);
      expect(metrics).toContain('registry_bridge_collector_members 1');
    } finally {
      await queue.close();
      await queue.disconnect();
    }
  });

  it('leaves the member set on shutdown', async () => {
    const id = app.get(MembershipService).memberId;
    await app.close();
    expect(await redis.zscore(`${prefix}:collector:eureka:members`, id)).toBeNull();
  });
});
