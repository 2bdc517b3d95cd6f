import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
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
import type { StatusPort } from '@registry-bridge/source-kit';
import {
  EurekaRestClient,
  EurekaSourceConfig,
  EurekaSourceSyncer,
  EurekaSyncLogger,
  toClientOptions,
  toSyncOptions,
} from '@registry-bridge/registry-eureka';
import type { CollectorEurekaConfig } from '@registry-bridge/registry-eureka';
import { EurekaMetrics } from './eureka-metrics';

interface SourceRunner {
  config: EurekaSourceConfig;
  client: EurekaRestClient;
  syncer: EurekaSourceSyncer;
  held: boolean;
  running?: Promise<void>;
  nextSyncAt: number;
  /** Failed reads in a row. */
  failures: number;
}

/** Longest wait between reads while the registry fails: what "seen within seconds" costs. */
const RETRY_MAX_MS = 2000;

/**
 * When the next read comes after `failures` failed ones: 1 s, then 2 s (never later than the
 * poll interval), however long the outage: a registry that answers again is seen within seconds,
 * not a poll interval later (issue 15.2). Only the lease holder reads, so this is one request
 * per source every 2 s, less than one Eureka client's heartbeat traffic.
 */
export function retryDelayMs(failures: number, pollIntervalMs: number): number {
  return Math.min(pollIntervalMs, RETRY_MAX_MS, 1000 * 2 ** Math.min(Math.max(0, failures - 1), 20));
}

/**
 * Runs one syncer per configured Eureka cluster. Only the replica holding a source's lease
 * (MembershipService.leaseFor) reads that cluster, so replicas do not multiply the load on
 * Eureka; the others retry the lease every `leaseCheckSeconds` and take over within seconds of
 * the holder's death (lease TTL = member TTL).
 *
 * Source status goes to the writer from the lease holder when it changes, else at most every
 * `collector.heartbeatSeconds` (SourceStatusReporter.reportChange from a poll, or the last one
 * re-sent between slow polls), so a 1 s poll does not cost an ingest job a second. The writer
 * judges silence by when it last heard from the source (`deletion.sourceSilenceSeconds`, well
 * above the heartbeat), not by the poll. A replica that lost the lease forgets the source's
 * status: it must not keep re-sending a stale one.
 */
@Injectable()
export class EurekaCollectorService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly log = new Logger('EurekaCollector');
  private readonly runners = new Map<string, SourceRunner>();
  private timer?: NodeJS.Timeout;
  private stopped = false;
  /** Not the module's timer-driven reporter: only the lease holder sends, from its own loop, on the same clock as the poll. */
  private readonly status: SourceStatusReporter;
  /**
   * Redis lost its data: the writer no longer has what was sent. Forget what was emitted, so the
   * next poll is a full fetch that sends every service and a complete snapshot (and the status) again.
   */
  private readonly onRedisReset = () => {
    for (const runner of this.runners.values()) {
      runner.syncer.resendAll();
      this.status.forget(runner.config.name);
      runner.nextSyncAt = 0;
    }
  };

  constructor(
    @Inject(APP_CONFIG) private readonly config: CollectorEurekaConfig,
    private readonly membership: MembershipService,
    private readonly producer: IngestProducer,
    private readonly collectorMetrics: CollectorMetrics,
    private readonly readiness: CollectorReadiness,
    private readonly metrics: EurekaMetrics,
    private readonly resets: RedisResetDetector,
  ) {
    // Success is already counted per poll (collectorMetrics.success), so the reporter gets no metrics.
    this.status = new SourceStatusReporter(this.producer, 'eureka', this.config.collector.heartbeatSeconds, undefined, () => new Date(Date.now()));
  }

  async onApplicationBootstrap(): Promise<void> {
    const logger: EurekaSyncLogger = {
      debug: (obj, msg) => this.log.debug({ ...obj, msg }),
      info: (obj, msg) => this.log.log({ ...obj, msg }),
      warn: (obj, msg) => this.log.warn({ ...obj, msg }),
    };
    this.membership.on('leaseLost', (name) => {
      const runner = this.runners.get(name);
      if (runner) this.standDown(runner, 'lease lost');
    });
    this.resets.on('reset', this.onRedisReset);
    this.timer = setInterval(() => void this.tick(), this.config.eureka.leaseCheckSeconds * 1000);
    // A source that cannot start (bad TLS file) is reported for itself and keeps no other from starting.
    const started = startEachSource('eureka', this.config.eureka.sources, (source) => this.addSource(source, logger), {
      readiness: this.readiness,
      reporter: this.status,
      log: this.log,
    });
    void this.tick();
    await started;
  }

  private addSource(source: EurekaSourceConfig, logger: EurekaSyncLogger): void {
    if (source.tls?.insecureSkipVerify) this.log.warn(`source ${source.name}: TLS verification is OFF (insecureSkipVerify)`);
    const client = new EurekaRestClient(toClientOptions(source));
    const hooks = this.metrics.hooksFor(source.name, (op) => this.collectorMetrics.error(source.name, op));
    const syncer = new EurekaSourceSyncer(client, this.producer, { ...toSyncOptions(source), status: this.statusPortFor(source.name) }, hooks, logger);
    this.runners.set(source.name, { config: source, client, syncer, held: false, nextSyncAt: 0, failures: 0 });
    this.metrics.leader.set({ source: source.name }, 0);
    const graceMs = (source.pollIntervalSeconds * this.config.eureka.readyPolls + source.timeoutSeconds * source.serviceUrls.length) * 1000;
    this.readiness.register(`eureka:${source.name}`, () => this.readinessOf(source.name, graceMs));
    this.log.log(`source ${source.name}: ${source.serviceUrls.length} server URL(s), poll every ${source.pollIntervalSeconds}s, full fetch every ${source.fullFetchIntervalSeconds}s`);
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    this.resets.off('reset', this.onRedisReset);
    clearInterval(this.timer);
    await Promise.allSettled([...this.runners.values()].map((r) => r.running));
    for (const r of this.runners.values()) r.client.close();
  }

  /** One lease check (and, when due, one sync) per source; sources run independently. */
  async tick(): Promise<void> {
    await Promise.all(
      [...this.runners.values()].map((runner) => {
        if (!runner.running && !this.stopped) runner.running = this.step(runner).finally(() => (runner.running = undefined));
        return runner.running;
      }),
    );
  }

  private async step(runner: SourceRunner): Promise<void> {
    const name = runner.config.name;
    try {
      const held = this.membership.holdsLease(name) || (await this.membership.leaseFor(name));
      if (!held) {
        if (runner.held) this.standDown(runner, 'lease taken by another replica');
        return;
      }
      if (!runner.held) {
        runner.held = true;
        runner.nextSyncAt = 0;
        this.metrics.leader.set({ source: name }, 1);
        this.log.log(`source ${name}: lease acquired, this replica reads it`);
      }
      const now = Date.now();
      if (now < runner.nextSyncAt) {
        await this.status.resendIfDue(name);
        return;
      }
      const pollMs = runner.config.pollIntervalSeconds * 1000;
      runner.nextSyncAt = now + pollMs;
      const result = await runner.syncer.syncOnce();
      runner.failures = result ? 0 : runner.failures + 1;
      if (!result) runner.nextSyncAt = now + retryDelayMs(runner.failures, pollMs);
      if (result) {
        this.collectorMetrics.success(name);
        if (result.upserts + result.removes > 0) this.collectorMetrics.change(name, result.upserts + result.removes);
        this.collectorMetrics.owned(name, runner.syncer.serviceCount);
      }
    } catch (err) {
      // Queue trouble (Redis): nothing was concluded, the next poll tries again.
      this.collectorMetrics.error(name, 'sync');
      this.log.warn(`source ${name}: sync failed: ${(err as Error).message}`);
    }
  }

  private standDown(runner: SourceRunner, why: string): void {
    if (!runner.held) return;
    runner.held = false;
    this.status.forget(runner.config.name);
    runner.syncer.reset();
    this.metrics.leader.set({ source: runner.config.name }, 0);
    this.log.log(`source ${runner.config.name}: ${why}; standing by`);
  }

  private readinessOf(name: string, graceMs: number): { ready: boolean; detail?: string } {
    const runner = this.runners.get(name);
    if (!runner?.held) return { ready: true, detail: 'standby (another replica holds the source lease)' };
    const last = runner.syncer.lastSuccess;
    if (!last) return { ready: false, detail: 'registry not read yet' };
    const age = Date.now() - last.getTime();
    return age <= graceMs ? { ready: true } : { ready: false, detail: `last successful read ${Math.round(age / 1000)}s ago` };
  }

  /** Only the lease holder reports the source's status. */
  private statusPortFor(source: string): StatusPort {
    return {
      reportChange: async (name, update) => {
        if (!update.reachable) this.collectorMetrics.error(source, 'unreachable');
        if (!this.runners.get(source)?.held) return;
        await this.status.reportChange(name, update);
      },
      forget: (name) => this.status.forget(name),
    };
  }

  /** For tests: the syncer of a source. */
  syncerOf(name: string): EurekaSourceSyncer | undefined {
    return this.runners.get(name)?.syncer;
  }
}
