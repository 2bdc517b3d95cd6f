import { Controller, Get, Inject } from '@nestjs/common';
import { HealthCheck, HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';
import { RedisHealthIndicator } from '@registry-bridge/observability';
import type { Cluster, Redis } from 'ioredis';
import { LeadershipService } from './leadership.service';
import { StatusService } from './status.service';
import { REDIS } from './writer.tokens';

@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    private readonly redisHealth: RedisHealthIndicator,
    @Inject(REDIS) private readonly redis: Redis | Cluster,
    private readonly status: StatusService,
    private readonly leadership: LeadershipService,
  ) {}

  /** The process only: a restart would not fix Redis or the API server. */
  @Get('live')
  live() {
    return { status: 'ok' };
  }

  @Get('ready')
  @HealthCheck()
  ready() {
    return this.health.check([
      () => this.redisHealth.isHealthy('redis', this.redis),
      async () => {
        const i = this.indicators.check('kubernetes');
        const k = await this.status.kubeHealth();
        return k.ok ? i.up({ server: k.server }) : i.down({ server: k.server, message: k.error });
      },
      async () => {
        // Every configured source must have delivered a complete snapshot before we claim ready.
        const i = this.indicators.check('sources');
        const sources = await this.status.sources();
        const missing = Object.entries(sources)
          .filter(([, s]) => !s.lastCompleteSnapshot)
          .map(([name]) => name);
        return missing.length ? i.down({ missingCompleteSnapshot: missing }) : i.up({ sources: Object.keys(sources).length });
      },
      () => {
        const i = this.indicators.check('leadership');
        return i.up({ leader: this.leadership.isLeader(), holder: this.leadership.holder() });
      },
    ]);
  }
}
