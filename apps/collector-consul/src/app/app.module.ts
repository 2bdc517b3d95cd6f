import { Module } from '@nestjs/common';
import { AppConfigModule, APP_CONFIG } from '@registry-bridge/app-config';
import { CollectorCoreModule } from '@registry-bridge/collector-core';
import { LoggingModule, MetricsModule } from '@registry-bridge/observability';
import { collectorConsulConfigSchema, CollectorConsulConfig } from '@registry-bridge/registry-consul';
import { ConsulSourcesService } from './consul-sources.service';

export const APP_NAME = 'collector-consul';

@Module({
  imports: [
    AppConfigModule.forRoot(collectorConsulConfigSchema),
    LoggingModule.forRoot({ app: APP_NAME }),
    MetricsModule,
    CollectorCoreModule.forRootAsync({
      healthController: true,
      inject: [APP_CONFIG],
      useFactory: (cfg: CollectorConsulConfig) => ({
        app: APP_NAME,
        kind: 'consul',
        redis: cfg.redis,
        heartbeatSeconds: cfg.collector.heartbeatSeconds,
        memberTtlSeconds: cfg.collector.memberTtlSeconds,
      }),
    }),
  ],
  providers: [ConsulSourcesService],
})
export class AppModule {}
