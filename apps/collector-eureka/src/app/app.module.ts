import { Module } from '@nestjs/common';
import { AppConfigModule, APP_CONFIG } from '@registry-bridge/app-config';
import { CollectorCoreModule } from '@registry-bridge/collector-core';
import { LoggingModule } from '@registry-bridge/observability';
import { collectorEurekaConfigSchema, type CollectorEurekaConfig } from '@registry-bridge/registry-eureka';
import { EurekaCollectorService } from './eureka-collector.service';
import { EurekaMetrics } from './eureka-metrics';

export const APP_NAME = 'collector-eureka';

@Module({
  imports: [
    AppConfigModule.forRoot(collectorEurekaConfigSchema),
    LoggingModule.forRoot({ app: APP_NAME }),
    CollectorCoreModule.forRootAsync({
      inject: [APP_CONFIG],
      useFactory: (cfg: CollectorEurekaConfig) => ({
        app: APP_NAME,
        kind: 'eureka',
        redis: cfg.redis,
        heartbeatSeconds: cfg.collector.heartbeatSeconds,
        memberTtlSeconds: cfg.collector.memberTtlSeconds,
      }),
      healthController: true,
    }),
  ],
  providers: [EurekaMetrics, EurekaCollectorService],
})
export class AppModule {}
