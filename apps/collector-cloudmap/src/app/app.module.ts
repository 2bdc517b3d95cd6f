import { Module } from '@nestjs/common';
import { AppConfigModule, APP_CONFIG } from '@registry-bridge/app-config';
import { CollectorCoreModule } from '@registry-bridge/collector-core';
import { LoggingModule, MetricsModule } from '@registry-bridge/observability';
import { CloudMapSourcesService } from './cloudmap-sources.service';
import { collectorCloudMapConfigSchema, CollectorCloudMapConfig } from '@registry-bridge/registry-cloudmap';

export const APP_NAME = 'collector-cloudmap';

@Module({
  imports: [
    AppConfigModule.forRoot(collectorCloudMapConfigSchema),
    LoggingModule.forRoot({ app: APP_NAME }),
    MetricsModule,
    CollectorCoreModule.forRootAsync({
      healthController: true,
      inject: [APP_CONFIG],
      useFactory: (cfg: CollectorCloudMapConfig) => ({
        app: APP_NAME,
        kind: 'cloudmap',
        redis: cfg.redis,
        heartbeatSeconds: cfg.collector.heartbeatSeconds,
        memberTtlSeconds: cfg.collector.memberTtlSeconds,
      }),
    }),
  ],
  providers: [CloudMapSourcesService],
})
export class AppModule {}
