import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { APP_CONFIG } from '@registry-bridge/app-config';
import {
  CollectorMetrics,
  CollectorReadiness,
  IngestProducer,
  MembershipService,
  RedisResetDetector,
  SourceStatusReporter,
  startEachSource,
} from '@registry-bridge/collector-core';
import { MetricsService } from '@registry-bridge/observability';
import { consulEmitter, ConsulSourceConfig, ConsulSourceWatcher, createConsulClient, sourceReadiness } from '@registry-bridge/registry-consul';
import { CollectorConsulConfig } from '@registry-bridge/registry-consul';
import { ConsulMetrics } from './consul-metrics';

/**
 * One watcher per configured source, wired to the shared runtime: records go to the ingest queue,
 * ownership follows the replica membership, snapshots only from the holder of the source's lease,
 * reachability to the status heartbeats and to /health/ready.
 */
@Injectable()
export class ConsulSourcesService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly log = new Logger('ConsulSources');
  private readonly watchers: ConsulSourceWatcher[] = [];
  private readonly onMembership = () => this.watchers.forEach((w) => w.ownershipChanged());
  private readonly onRedisReset = () => this.watchers.forEach((w) => w.resendAll());

  constructor(
    @Inject(APP_CONFIG) private readonly config: CollectorConsulConfig,
    private readonly producer: IngestProducer,
    private readonly membership: MembershipService,
    private readonly reporter: SourceStatusReporter,
    private readonly readiness: CollectorReadiness,
    private readonly collectorMetrics: CollectorMetrics,
    private readonly metricsService: MetricsService,
    private readonly resets: RedisResetDetector,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const metrics = new ConsulMetrics(this.metricsService, this.collectorMetrics);
    this.membership.on('change', this.onMembership);
    this.resets.on('reset', this.onRedisReset);
    // A source that cannot start (bad TLS file) is reported for itself and keeps no other from starting.
    await startEachSource('consul', this.config.sources, (src) => this.startSource(src, metrics), { readiness: this.readiness, reporter: this.reporter, log: this.log });
    this.log.log(`watching ${this.watchers.length} Consul source(s) as member ${this.membership.memberId}`);
  }

  private async startSource(src: ConsulSourceConfig, metrics: ConsulMetrics): Promise<void> {
    if (src.tls?.insecureSkipVerify) this.log.warn(`source ${src.name}: TLS certificate verification is OFF (tls.insecureSkipVerify)`);
    const client = createConsulClient(src);
    // Every catalog answer reports success (several per second under churn): the reporter sends
    // a change at once and the same state once per heartbeat.
    const watcher = new ConsulSourceWatcher(
      src,
      client,
      consulEmitter(src.name, { port: this.producer, status: this.reporter }),
      {
        owns: (key) => this.membership.owns(key),
        snapshotLease: () => this.membership.leaseFor(`snapshot:${src.name}`),
      },
      {
        info: (o, m) => this.log.log({ ...o, msg: m }),
        warn: (o, m) => this.log.warn({ ...o, msg: m }),
        error: (o, m) => this.log.error({ ...o, msg: m }),
      },
      metrics.forSource(src.name, () => client.openSockets()),
    );
    // A quiet catalog answers once per blocking wait (+ Consul's wait/16 jitter): the grace
    // must outlast that, or readiness would flap at the end of every wait.
    const grace = Math.max(this.config.readinessGraceSeconds, Math.ceil((src.watch.waitMs * 17) / 16 / 1000) + 10);
    this.readiness.register(`consul:${src.name}`, () => sourceReadiness(watcher.status, this.reporter.isReady(src.name, grace)));
    this.watchers.push(watcher);
    await watcher.start();
  }

  async onModuleDestroy(): Promise<void> {
    this.membership.off('change', this.onMembership);
    this.resets.off('reset', this.onRedisReset);
    await Promise.all(this.watchers.map((w) => w.stop()));
  }
}
