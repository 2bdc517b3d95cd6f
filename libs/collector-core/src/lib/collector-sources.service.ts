import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { APP_CONFIG } from '@registry-bridge/app-config';
import { RegistryKind } from '@registry-bridge/contract';
import type { SourceWatch, WatchContext } from '@registry-bridge/source-kit';
import { MetricsService } from '@registry-bridge/observability';
import type { Cluster, Redis } from 'ioredis';
import { CollectorMetrics } from './collector-metrics';
import { CollectorReadiness } from './collector-readiness';
import { COLLECTOR_ADAPTER, COLLECTOR_REDIS } from './collector-core.tokens';
import { IngestProducer } from './ingest-producer';
import { MembershipService } from './membership.service';
import { RedisResetDetector } from './redis-reset-detector';
import { SourceStatusReporter } from './source-status.reporter';
import { startEachSource } from './start-each-source';

/**
 * What a collector app says about its registry: where its sources are in its config, and how a
 * source's watch is built (the registry adapter's watch() with the app's metrics and budgets).
 */
export interface CollectorAdapter<Cfg, S extends { name: string } = { name: string }> {
  kind: RegistryKind;
  sources(config: Cfg): readonly S[];
  watch(source: S, context: WatchContext, config: Cfg, runtime: CollectorRuntime): SourceWatch;
}

/** The runtime pieces an app may need for its sources' metrics and budgets. */
export interface CollectorRuntime {
  redis: Redis | Cluster;
  metrics: MetricsService;
  collectorMetrics: CollectorMetrics;
  /** Made once per app and shared by its sources (metric series may be registered only once). */
  once<T>(name: string, make: () => T): T;
}

/**
 * Runs every configured source of a collector on the shared runtime: records to the ingest queue,
 * ownership from the replica membership, status heartbeats, readiness per source, a re-send after
 * Redis lost its data. A source that cannot start is reported for itself (startEachSource).
 */
@Injectable()
export class CollectorSourcesService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly log: Logger;
  private readonly watches: SourceWatch[] = [];
  private readonly onMembership = () => this.watches.forEach((w) => w.ownershipChanged());
  private readonly onRedisReset = () => this.watches.forEach((w) => w.resendAll());
  private readonly onLeaseLost = (name: string) => this.watches.forEach((w) => w.leaseLost?.(name));

  constructor(
    @Inject(APP_CONFIG) private readonly config: unknown,
    @Inject(COLLECTOR_ADAPTER) private readonly adapter: CollectorAdapter<unknown>,
    private readonly producer: IngestProducer,
    private readonly membership: MembershipService,
    private readonly reporter: SourceStatusReporter,
    private readonly readiness: CollectorReadiness,
    private readonly resets: RedisResetDetector,
    @Inject(COLLECTOR_REDIS) private readonly redis: Redis | Cluster,
    private readonly metrics: MetricsService,
    private readonly collectorMetrics: CollectorMetrics,
  ) {
    this.log = new Logger(`${adapter.kind}-sources`);
  }

  async onApplicationBootstrap(): Promise<void> {
    this.membership.on('change', this.onMembership);
    this.membership.on('leaseLost', this.onLeaseLost);
    this.resets.on('reset', this.onRedisReset);
    const context: WatchContext = {
      port: this.producer,
      status: this.reporter,
      coordination: this.membership,
      log: {
        info: (o, msg) => this.log.log({ ...o, msg }),
        warn: (o, msg) => this.log.warn({ ...o, msg }),
        error: (o, msg) => this.log.error({ ...o, msg }),
      },
    };
    const made = new Map<string, unknown>();
    const runtime: CollectorRuntime = {
      redis: this.redis,
      metrics: this.metrics,
      collectorMetrics: this.collectorMetrics,
      once: <T>(name: string, make: () => T): T => {
        if (!made.has(name)) made.set(name, make());
        return made.get(name) as T;
      },
    };
    const kind = this.adapter.kind;
    await startEachSource(
      kind,
      this.adapter.sources(this.config),
      async (source) => {
        const watch = this.adapter.watch(source, context, this.config, runtime);
        this.watches.push(watch);
        this.readiness.register(`${kind}:${source.name}`, () => watch.readiness());
        await watch.start();
      },
      { readiness: this.readiness, reporter: this.reporter, log: this.log },
    );
    this.log.log(`watching ${this.watches.length} ${kind} source(s) as member ${this.membership.memberId}`);
  }

  /** The running watches (for tests). */
  sourceWatches(): readonly SourceWatch[] {
    return this.watches;
  }

  async onModuleDestroy(): Promise<void> {
    this.membership.off('change', this.onMembership);
    this.membership.off('leaseLost', this.onLeaseLost);
    this.resets.off('reset', this.onRedisReset);
    await Promise.all(this.watches.map((w) => w.stop()));
  }
}
