import { DynamicModule, Module } from '@nestjs/common';
import { AppConfigModule, APP_CONFIG, LogConfig, RedisConfig } from '@registry-bridge/app-config';
import { LoggingModule, MetricsModule } from '@registry-bridge/observability';
import { z } from 'zod';
import { CollectorCoreModule } from './collector-core.module';
import { COLLECTOR_ADAPTER } from './collector-core.tokens';
import { CollectorAdapter, CollectorSourcesService } from './collector-sources.service';

/** What the runtime reads of every collector's config (its schemas are in libs/config). */
export interface CollectorAppConfig {
  redis: RedisConfig;
  log: LogConfig;
  collector: { heartbeatSeconds: number; memberTtlSeconds: number };
}

/**
 * A whole collector app from its registry's adapter: config, logging, metrics, the shared runtime
 * (Redis, membership, heartbeats, /health) and one watch per configured source.
 */
@Module({})
export class CollectorModule {
  static forAdapter<S extends z.ZodType<CollectorAppConfig>, Src extends { name: string }>(options: { app: string; schema: S; adapter: CollectorAdapter<z.infer<S>, Src> }): DynamicModule {
    return {
      module: CollectorModule,
      imports: [
        AppConfigModule.forRoot(options.schema),
        LoggingModule.forConfig({ app: options.app, inject: [APP_CONFIG], level: (cfg: CollectorAppConfig) => cfg.log.level }),
        MetricsModule,
        CollectorCoreModule.forRootAsync({
          healthController: true,
          inject: [APP_CONFIG],
          useFactory: (cfg: CollectorAppConfig) => ({
            app: options.app,
            kind: options.adapter.kind,
            redis: cfg.redis,
            heartbeatSeconds: cfg.collector.heartbeatSeconds,
            memberTtlSeconds: cfg.collector.memberTtlSeconds,
          }),
        }),
      ],
      providers: [{ provide: COLLECTOR_ADAPTER, useValue: options.adapter }, CollectorSourcesService],
    };
  }
}
