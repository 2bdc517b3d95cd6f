import { Controller, Get, Inject } from '@nestjs/common';
import { HealthCheck, HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';
import { PingableRedis, RedisHealthIndicator } from '@registry-bridge/observability';
import { CollectorReadiness } from './collector-readiness';
import { COLLECTOR_REDIS } from './collector-core.tokens';

/**
 * `/health/live`: the process answers (never Redis or the registry: restarting the pod would
 * not fix those). `/health/ready`: Redis PINGs and every registered source check passes.
 * Mounted by `CollectorCoreModule.forRoot({ healthController: true, ... })`, or list it in
 * an app module's `controllers`.
 */
@Controller('health')
export class CollectorHealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    private readonly redisHealth: RedisHealthIndicator,
    private readonly readiness: CollectorReadiness,
    @Inject(COLLECTOR_REDIS) private readonly redis: PingableRedis,
  ) {}

  @Get('live')
  live() {
    return { status: 'ok' };
  }

  @Get('ready')
  @HealthCheck()
  async ready() {
    const sources = await this.readiness.evaluate();
    return this.health.check([
      () => this.redisHealth.isHealthy('redis', this.redis),
      ...sources.map((s) => () => {
        const indicator = this.indicators.check(s.name);
        // a ready source may still carry a warning (e.g. ACL filtering): shown, not failing
        return s.ready ? indicator.up(s.detail ? { message: s.detail } : {}) : indicator.down(s.detail ? { message: s.detail } : {});
      }),
    ]);
  }
}
