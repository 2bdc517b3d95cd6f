import { serviceKey, SourceRef } from '@registry-bridge/contract';
import { SourceEmitter, SourceHealth } from '@registry-bridge/source-kit';
import { recoveryTimeoutMs } from './blocking-index';
import { BlockingPool, rankForPool } from './blocking-pool';
import { CatalogWatch } from './catalog-watch';
import { ConsulHttpClient } from './consul-http.client';
import { ConsulLineage } from './consul-lineage';
import { ConsulSourceConfig, sourceScope } from './consul-source.schema';
import { ConsulSourceStatus } from './consul-source-health';
import { ConsulOwnership, ConsulWatchContext, ConsulWatcherMetrics, ConsulWatchLog, NOOP_CONSUL_METRICS, watchOptionsOf } from './consul-watch.types';
import { HealthStateDetector } from './health-state-detector';
import { PollScheduler } from './poll-scheduler';
import { PROTOCOL_ENTRY_KINDS, ProtocolEntriesWatch } from './protocol-entries-watch';
import { ServiceFilter } from './service-filter';
import { ServiceReader } from './service-reader';
import { ServiceState, ServiceTable } from './service-table';
import { ConsulLoops } from './watch-loop';

/**
 * Watches one Consul source.
 *
 * Coverage of thousands of services with a bounded number of long polls:
 * - one blocking query on /v1/catalog/services (membership and tag changes of every service);
 * - up to `maxBlockingWatches` blocking queries on /v1/health/service/<name>, given to the owned
 *   services that changed most recently (hot services get every change at once);
 * - when more services are owned than the pool holds, one blocking query on /v1/health/state/any
 *   spots health flips of every other service (a check's ModifyIndex moved) and reads that service
 *   at once, and promotes it into the pool;
 * - the rest is re-read round-robin at `pollRatePerSecond` (catches address/port/meta edits that
 *   move neither tags nor checks).
 *
 * This class composes the parts: the service table they share, the catalog watch, the blocking
 * pool, the poll scheduler, the health-state detector and the protocol config entries.
 */
export class ConsulSourceWatcher {
  readonly source: SourceRef;
  private readonly abort = new AbortController();
  private readonly ctx: ConsulWatchContext;
  private readonly lineage: ConsulLineage;
  private readonly health: ConsulSourceStatus;
  private readonly table: ServiceTable;
  private readonly catalog: CatalogWatch;
  private readonly pool: BlockingPool;
  private readonly scheduler: PollScheduler;
  private readonly reader: ServiceReader;
  private readonly protocols: ProtocolEntriesWatch;
  private healthState?: HealthStateDetector;
  private owned = 0;
  private readonly loops: ConsulLoops;
  /** Called when a service was read or the catalog applied (a one-shot read waits on it). */
  onProgress?: () => void;

  constructor(
    private readonly cfg: ConsulSourceConfig,
    client: ConsulHttpClient,
    private readonly emitter: SourceEmitter,
    private readonly ownership: ConsulOwnership,
    log: ConsulWatchLog,
    metrics: ConsulWatcherMetrics = NOOP_CONSUL_METRICS,
    now: () => number = Date.now,
  ) {
    this.source = { name: cfg.name, kind: 'consul' };
    const options = watchOptionsOf(cfg);
    const scope = sourceScope(cfg);
    const hasToken = !!cfg.token;
    const filter = new ServiceFilter(cfg.filters);
    const stopped = this.abort.signal;
    const progress = (): void => this.onProgress?.();
    this.ctx = { source: cfg.name, client, options, metrics, log, now, recoveryTimeout: (f) => recoveryTimeoutMs(f, options.recoveryTimeoutMs, options.requestTimeoutMs) };
    this.lineage = new ConsulLineage(cfg.name, client, log, now);
    this.health = new ConsulSourceStatus(cfg.name, hasToken, emitter, log, metrics, now);
    this.table = new ServiceTable((name) => serviceKey({ source: cfg.name, scope, service: name }));
    this.loops = new ConsulLoops(this.ctx, () => this.health.recovered, (service, message) => this.table.noteError(service, message));
    this.protocols = new ProtocolEntriesWatch(this.ctx, (moved) => {
      if (this.rereadWhere((st) => st.sent && moved(st.name))) this.rebalance();
    });
    this.reader = new ServiceReader(this.ctx, {
      source: this.source, scope, config: cfg, hasToken, filter, emitter, ownership, stopped, progress,
      lineage: () => this.lineage.current,
      centralProtocol: (name) => this.protocols.protocolOf(name),
      aclHidden: (name, hidden) => this.health.aclHiddenService(name, hidden),
      changed: (st) => {
        if (!this.pool.has(st.name)) this.rebalance();
      },
    });
    this.pool = new BlockingPool(stopped, (name, signal) => {
      const st = this.table.get(name);
      this.scheduler.unmark(name);
      if (st) this.loops.run('service', signal, (sig, failures) => this.reader.read(st, true, sig, failures), { service: name });
    });
    this.scheduler = new PollScheduler({
      pollRatePerSecond: options.pollRatePerSecond, pollConcurrency: options.pollConcurrency, now,
      pollable: (name) => this.table.has(name) && !this.pool.has(name),
      read: async (name, signal) => {
        const st = this.table.get(name);
        if (st) await this.reader.read(st, false, signal);
      },
      failed: (name, err) => this.loops.failed('service', err, name),
    });
    this.catalog = new CatalogWatch(this.ctx, {
      scope, hasToken, filter, table: this.table, emitter, ownership, lineage: this.lineage, health: this.health, progress,
      touched: (name) => this.scheduler.markUrgent(name),
      dropped: (name) => this.forget(name),
      lineageRestarted: () => this.lineageRestarted(),
      rebalance: () => this.rebalance(),
    });
  }

  get status(): SourceHealth {
    return this.health.status;
  }

  /** Services this replica watches. */
  get ownedServices(): number {
    return this.owned;
  }

  get currentLineage(): string | undefined {
    return this.lineage.current;
  }

  /** For a one-shot read: see ServiceTable.readProgress. */
  readProgress(): ReturnType<ServiceTable['readProgress']> {
    return this.table.readProgress();
  }

  /** Names of the services in the blocking pool (for tests and the debug log). */
  blockingPool(): string[] {
    return this.pool.names();
  }

  async start(): Promise<void> {
    const signal = this.abort.signal;
    this.lineage.current = await this.lineage.read(signal);
    if (this.cfg.normalize.protocolFromConfigEntries) {
      // Read once before the first service read, so first records already carry the protocol;
      // with the short timeout, so a Consul down at start does not hold the start up.
      const p = this.protocols;
      await Promise.all(PROTOCOL_ENTRY_KINDS.map((k) => p.read(k, signal, 0, this.ctx.options.recoveryTimeoutMs).catch((err) => p.failed(k, err))));
      for (const k of PROTOCOL_ENTRY_KINDS) this.loops.run('config', signal, (sig, failures) => p.read(k, sig, failures), { onError: (err) => p.failed(k, err), quiet: true });
    }
    const o = this.ctx.options;
    const onError = (err: unknown): void => {
      this.health.unreachable(err);
      this.onProgress?.();
    };
    this.loops.run('catalog', signal, (sig, failures) => this.catalog.step(sig, failures), { onError, backoffMaxMs: Math.min(o.backoffMaxMs, o.recoveryProbeMaxMs) });
    this.loops.track(this.scheduler.run(signal));
  }

  async stop(): Promise<void> {
    this.abort.abort();
    this.healthState?.abort.abort();
    this.scheduler.wake();
    await this.loops.settled();
    this.ctx.client.close();
  }

  /** Membership changed: drop what we no longer own, pick up what we now own. */
  ownershipChanged(): void {
    this.rebalance();
  }

  /**
   * The queue lost what was sent (Redis came back empty): read every service again and send it
   * even if unchanged, then a complete snapshot. Revisions keep growing, so nothing goes back.
   */
  resendAll(): void {
    if (this.abort.signal.aborted) return;
    this.emitter.resendAll();
    this.catalog.resetSnapshot();
    for (const st of this.table.values()) st.sent = false;
    this.rereadWhere(() => true);
    this.rebalance();
    this.scheduler.wake();
    void this.catalog.snapshot().catch((err) => this.ctx.log.warn({ source: this.cfg.name, err: (err as Error).message }, 'snapshot after a Redis reset not sent; the next catalog read retries'));
  }

  /** Reads the services `which` picks again at once, non-blocking (a blocking read would sit out its wait); true when any. Call rebalance() after. */
  private rereadWhere(which: (st: ServiceState) => boolean): boolean {
    let any = false;
    for (const st of this.table.values()) {
      if (!which(st)) continue;
      st.index = 0;
      this.pool.drop(st.name);
      this.scheduler.markUrgent(st.name);
      any = true;
    }
    return any;
  }

  /** Consul was rebuilt: every service is read again, its revisions restarting with the new lineage. */
  private lineageRestarted(): void {
    for (const st of this.table.values()) {
      st.index = 0;
      this.emitter.forget(st.key);
      st.sent = false;
      this.scheduler.markUrgent(st.name);
    }
    this.scheduler.wake();
  }

  /** A service left the table: its blocking query ends, its ACL state is forgotten. */
  private forget(name: string): void {
    this.pool.drop(name);
    this.health.aclHiddenService(name, false);
  }

  /** Hands the owned services out again: the most recently changed to the blocking pool, the rest to the poll scheduler. */
  private rebalance(): void {
    const { owned, added, dropped } = this.table.sync(this.catalog.names(), (key) => this.ownership.owns(key));
    for (const st of dropped) {
      this.forget(st.name);
      this.emitter.forget(st.key);
    }
    added.forEach((name) => this.scheduler.markUrgent(name));
    const { pooled, polled } = rankForPool(owned, this.ctx.options.maxBlockingWatches);
    this.pool.assign(pooled);
    this.scheduler.setQueue(polled);
    this.health.counts(this.catalog.size, this.pool.size);
    if (this.owned !== owned.length) this.ctx.metrics.owned(owned.length);
    this.owned = owned.length;
    this.ctx.metrics.watchesActive(this.pool.size);

    if (polled.length > 0 && !this.healthState) this.startHealthStateWatch();
    if (polled.length === 0 && this.healthState) {
      this.healthState.abort.abort();
      this.healthState = undefined;
    }
    if (this.scheduler.hasUrgent) this.scheduler.wake();
  }

  /** Outside the pool, health flips are spotted by one blocking query on every check. */
  private startHealthStateWatch(): void {
    const { client, metrics, options } = this.ctx;
    const detector = new HealthStateDetector(client, metrics, options.waitMs, this.ctx.recoveryTimeout);
    this.healthState = detector;
    const signal = AbortSignal.any([detector.abort.signal, this.abort.signal]);
    this.loops.run('health_state', signal, async (sig, failures) => {
      const changed = await detector.step(sig, failures);
      if (!changed) return;
      changed.services.forEach((name) => this.scheduler.poke(name));
      this.table.onNodes(changed.nodes).forEach((name) => this.scheduler.poke(name));
    });
  }
}
