import { Controller, Get } from '@nestjs/common';
import { HealthCheck, HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';
import { RedisHealthIndicator } from '@registry-bridge/observability';
import { WriterService } from './writer.service';

@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    private readonly redis: RedisHealthIndicator,
    private readonly writer: WriterService,
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
      () => this.redis.isHealthy('redis', this.writer.redis),
      async () => {
        const i = this.indicators.check('kubernetes');
        const k = await this.writer.kubeHealth();
        return k.ok ? i.up({ server: this.writer.kube.server }) : i.down({ server: this.writer.kube.server, message: k.error });
      },
      async () => {
        // Every configured source must have delivered a complete snapshot before we claim ready.
        const i = this.indicators.check('sources');
        const status = await this.writer.sourcesStatus();
        const missing = Object.entries(status)
          .filter(([, s]) => !(s as { lastCompleteSnapshot: unknown }).lastCompleteSnapshot)
          .map(([name]) => name);
        return missing.length ? i.down({ missingCompleteSnapshot: missing }) : i.up({ sources: Object.keys(status).length });
      },
      () => {
        const i = this.indicators.check('leadership');
        return i.up({ leader: this.writer.isLeader(), holder: this.writer.elector?.holder() ?? null });
      },
    ]);
  }
}
