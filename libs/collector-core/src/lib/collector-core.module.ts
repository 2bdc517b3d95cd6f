import {
  DynamicModule,
  Inject,
  Injectable,
  Logger,
  Module,
  ModuleMetadata,
  OnApplicationShutdown,
  OnModuleDestroy,
  OnModuleInit,
  Provider,
} from '@nestjs/common';
import { createRedisConnection, RedisConfig } from '@registry-bridge/app-config';
import { QUEUES, RegistryKind } from '@registry-bridge/contract';
import { MetricsModule, MetricsService, RedisHealthModule } from '@registry-bridge/observability';
import { Queue } from 'bullmq';
import type { Cluster, Redis } from 'ioredis';
import { CollectorHealthController } from './collector-health.controller';
import { CollectorMetrics } from './collector-metrics';
import { CollectorReadiness } from './collector-readiness';
import { COLLECTOR_CORE_OPTIONS, COLLECTOR_REDIS } from './collector-core.tokens';
import { IngestProducer } from './ingest-producer';
import { MembershipService } from './membership.service';
import { RedisResetDetector } from './redis-reset-detector';
import { SourceStatusReporter } from './source-status.reporter';

export interface CollectorCoreOptions {
  /** App name (connection name in Redis, log context). */
  app: string;
  kind: RegistryKind;
  redis: RedisConfig;
  /** Source status heartbeat toward the writer. Default 10. */
  heartbeatSeconds?: number;
  /** A replica silent this long is dead and its services move. Default 6. */
  memberTtlSeconds?: number;
  /** Membership heartbeat. Default a third of `memberTtlSeconds`. */
  memberHeartbeatSeconds?: number;
}

export interface CollectorCoreModuleExtras {
  /** Mount `CollectorHealthController` (`/health/live`, `/health/ready`). Default false. */
  healthController?: boolean;
}

export interface CollectorCoreAsyncOptions extends CollectorCoreModuleExtras {
  imports?: ModuleMetadata['imports'];
  inject?: Array<string | symbol | (abstract new (...args: never[]) => unknown)>;
  useFactory: (...args: never[]) => CollectorCoreOptions | Promise<CollectorCoreOptions>;
}

/** Starts and stops the runtime in a safe order: leave the member set before closing Redis. */
@Injectable()
export class CollectorCoreLifecycle implements OnModuleInit, OnModuleDestroy, OnApplicationShutdown {
  private readonly log = new Logger('CollectorCore');
  private lastRedisError?: string;

  constructor(
    @Inject(COLLECTOR_REDIS) private readonly redis: Redis | Cluster,
    private readonly membership: MembershipService,
    private readonly reporter: SourceStatusReporter,
    private readonly producer: IngestProducer,
    private readonly resets: RedisResetDetector,
  ) {
    // Without a listener ioredis prints every reconnect failure; log each distinct error once.
    redis.on('error', (err: Error) => {
      if (err.message !== this.lastRedisError) this.log.warn(`redis: ${err.message}`);
      this.lastRedisError = err.message;
    });
    redis.on('ready', () => (this.lastRedisError = undefined));
  }

  async onModuleInit(): Promise<void> {
    await this.membership.start();
    this.reporter.start();
    this.resets.start();
  }

  async onModuleDestroy(): Promise<void> {
    this.resets.stop();
    this.reporter.stop();
    await Promise.allSettled([this.membership.close(), this.producer.close()]);
  }

  async onApplicationShutdown(): Promise<void> {
    try {
      await this.redis.quit();
    } catch {
      this.redis.disconnect();
    }
  }
}

const runtimeProviders: Provider[] = [
  {
    provide: COLLECTOR_REDIS,
    inject: [COLLECTOR_CORE_OPTIONS],
    useFactory: (o: CollectorCoreOptions) => createRedisConnection(o.redis, { connectionName: o.app }),
  },
  {
    provide: MembershipService,
    inject: [COLLECTOR_CORE_OPTIONS, COLLECTOR_REDIS],
    useFactory: (o: CollectorCoreOptions, redis: Redis) => {
      const ttlMs = (o.memberTtlSeconds ?? 6) * 1000;
      return new MembershipService(redis, {
        kind: o.kind,
        prefix: o.redis.prefix,
        ttlMs,
        heartbeatMs: o.memberHeartbeatSeconds ? o.memberHeartbeatSeconds * 1000 : Math.floor(ttlMs / 3),
      });
    },
  },
  {
    provide: CollectorMetrics,
    inject: [MetricsService, MembershipService],
    useFactory: (metrics: MetricsService, membership: MembershipService) => new CollectorMetrics(metrics, () => membership.members().length),
  },
  {
    provide: IngestProducer,
    inject: [COLLECTOR_CORE_OPTIONS, COLLECTOR_REDIS, CollectorMetrics],
    useFactory: (o: CollectorCoreOptions, redis: Redis | Cluster, metrics: CollectorMetrics) => {
      const queue = new Queue(QUEUES.ingest, { connection: redis, prefix: o.redis.prefix });
      // An unhandled 'error' event would kill the process; the connection listener logs it already.
      queue.on('error', () => undefined);
      return new IngestProducer(queue, metrics);
    },
  },
  {
    provide: SourceStatusReporter,
    inject: [COLLECTOR_CORE_OPTIONS, IngestProducer, CollectorMetrics],
    useFactory: (o: CollectorCoreOptions, producer: IngestProducer, metrics: CollectorMetrics) =>
      new SourceStatusReporter(producer, o.kind, o.heartbeatSeconds ?? 10, metrics),
  },
  {
    provide: RedisResetDetector,
    inject: [COLLECTOR_CORE_OPTIONS, COLLECTOR_REDIS, MembershipService],
    // checked as often as the membership heartbeat
    useFactory: (o: CollectorCoreOptions, redis: Redis, membership: MembershipService) => new RedisResetDetector(redis, o.redis.prefix, membership.heartbeatMs),
  },
  CollectorReadiness,
  CollectorCoreLifecycle,
];

const exported = [
  COLLECTOR_REDIS,
  COLLECTOR_CORE_OPTIONS,
  MembershipService,
  CollectorMetrics,
  IngestProducer,
  SourceStatusReporter,
  CollectorReadiness,
  RedisResetDetector,
];

/**
 * The runtime every collector shares: Redis connection, ingest producer, membership and
 * leases, source status heartbeats, metrics and readiness. Global, so a
 * registry lib's module can inject these without importing it again.
 */
@Module({})
export class CollectorCoreModule {
  static forRoot(options: CollectorCoreOptions & CollectorCoreModuleExtras): DynamicModule {
    return CollectorCoreModule.build([{ provide: COLLECTOR_CORE_OPTIONS, useValue: options }], [], options);
  }

  static forRootAsync(options: CollectorCoreAsyncOptions): DynamicModule {
    return CollectorCoreModule.build(
      [{ provide: COLLECTOR_CORE_OPTIONS, inject: options.inject ?? [], useFactory: options.useFactory as (...args: unknown[]) => unknown }],
      options.imports ?? [],
      options,
    );
  }

  private static build(optionsProviders: Provider[], imports: NonNullable<ModuleMetadata['imports']>, extras: CollectorCoreModuleExtras): DynamicModule {
    return {
      module: CollectorCoreModule,
      global: true,
      imports: [...imports, MetricsModule, RedisHealthModule],
      providers: [...optionsProviders, ...runtimeProviders],
      controllers: extras.healthController ? [CollectorHealthController] : [],
      exports: [...exported, RedisHealthModule],
    };
  }
}
