import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { APP_CONFIG } from '@registry-bridge/app-config';
import {
  COLLECTOR_REDIS,
  CollectorMetrics,
  CollectorReadiness,
  IngestProducer,
  MembershipService,
  RedisResetDetector,
  SourceStatusReporter,
  startEachSource,
} from '@registry-bridge/collector-core';
import { MetricsService } from '@registry-bridge/observability';
import { BudgetRedis, CloudMapReader, CloudMapSourceConfig, cloudMapEmitter, CloudMapWatcher, createCloudMapClient, RedisRequestBudget } from '@registry-bridge/registry-cloudmap';
import { CloudMapMetrics } from './cloudmap-metrics';
import { CollectorCloudMapConfig } from '@registry-bridge/registry-cloudmap';

/**
 * One watcher per configured source, wired to the shared runtime: records to the ingest queue,
 * ownership from the replica membership, snapshots only under the source's lease, the request
 * budget in Redis (shared by all replicas), reachability to the status heartbeats and /health/ready.
 */
@Injectable()
export class CloudMapSourcesService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly log = new Logger('CloudMapSources');
  private readonly watchers: CloudMapWatcher[] = [];
  private readonly closers: Array<() => void> = [];
  private readonly onMembership = () => this.watchers.forEach((w) => w.ownershipChanged());
  private readonly onRedisReset = () => this.watchers.forEach((w) => w.resendAll());

  constructor(
    @Inject(APP_CONFIG) private readonly config: CollectorCloudMapConfig,
    @Inject(COLLECTOR_REDIS) private readonly redis: BudgetRedis,
    private readonly producer: IngestProducer,
    private readonly membership: MembershipService,
    private readonly reporter: SourceStatusReporter,
    private readonly readiness: CollectorReadiness,
    private readonly collectorMetrics: CollectorMetrics,
    private readonly metricsService: MetricsService,
    private readonly resets: RedisResetDetector,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const metrics = new CloudMapMetrics(this.metricsService, this.collectorMetrics);
    this.membership.on('change', this.onMembership);
    this.resets.on('reset', this.onRedisReset);
    // A source that cannot start is reported for itself and keeps no other from starting.
    await startEachSource('cloudmap', this.config.sources, (src) => this.startSource(src, metrics), { readiness: this.readiness, reporter: this.reporter, log: this.log });
  }

  private startSource(src: CloudMapSourceConfig, metrics: CloudMapMetrics): void {
    const observers = metrics.forSource(src);
    const budget = new RedisRequestBudget(this.redis, src.name, src, `${this.config.redis.prefix}:cloudmap:budget`);
    const client = createCloudMapClient(src, { budget, observer: observers.api });
    const watcher = new CloudMapWatcher(src, {
      reader: new CloudMapReader(client, src),
      emitter: cloudMapEmitter(src.name, { port: this.producer, status: this.reporter }),
      statusHeartbeats: true,
      coordination: this.membership,
      observer: observers.watcher,
      log: (level, message, fields) => (level === 'warn' ? this.log.warn({ ...fields, msg: message }) : this.log.log({ ...fields, msg: message })),
    });
    this.readiness.register(`cloudmap:${src.name}`, () => {
      const health = watcher.sourceHealth();
      const ready = health.reachable && this.reporter.isReady(src.name, this.config.readinessGraceSeconds);
      return { ready, detail: ready ? undefined : (health.error ?? 'no complete inventory yet') };
    });
    this.closers.push(observers.stop, () => client.destroy());
    this.watchers.push(watcher);
    this.log.log({ msg: 'watching Cloud Map source', source: src.name, region: src.region, endpoint: src.endpoint, assumeRole: src.assumeRole?.roleArn });
    watcher.start();
  }

  async onModuleDestroy(): Promise<void> {
    this.membership.off('change', this.onMembership);
    this.resets.off('reset', this.onRedisReset);
    await Promise.all(this.watchers.map((w) => w.stop()));
    this.closers.forEach((close) => close());
  }
}
