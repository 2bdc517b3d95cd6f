import { HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';
import { PingableRedis, RedisHealthIndicator } from '@registry-bridge/observability';
import { CollectorHealthController } from './collector-health.controller';
import { CollectorReadiness } from './collector-readiness';

describe('CollectorHealthController /health/ready', () => {
  // HealthCheckService's own aggregation (503 on any down) is Terminus's; here: what each source shows.
  const health = { check: async (fns: Array<() => unknown>) => Promise.all(fns.map((f) => f())) } as unknown as HealthCheckService;
  const redisHealth = { isHealthy: async () => ({ redis: { status: 'up' } }) } as unknown as RedisHealthIndicator;

  it('shows a ready source’s warning (e.g. ACL filtering) as its message, and a failing source’s reason', async () => {
    const readiness = new CollectorReadiness();
    readiness.register('consul:a', () => ({ ready: true, detail: 'the ACL token lacks service:read on some service' }));
    readiness.register('consul:b', () => ({ ready: false, detail: 'GET /v1/catalog/services timed out' }));
    readiness.register('consul:c', () => true);
    const c = new CollectorHealthController(health, new HealthIndicatorService(), redisHealth, readiness, {} as PingableRedis);
    expect(await c.ready()).toEqual([
      { redis: { status: 'up' } },
      { 'consul:a': { status: 'up', message: 'the ACL token lacks service:read on some service' } },
      { 'consul:b': { status: 'down', message: 'GET /v1/catalog/services timed out' } },
      { 'consul:c': { status: 'up' } },
    ]);
  });
});
