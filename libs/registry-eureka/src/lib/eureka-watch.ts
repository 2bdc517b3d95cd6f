import type { SourceWatch, StatusPort, WatchContext } from '@registry-bridge/source-kit';
import { EurekaRestClient } from './eureka-rest.client';
import { EurekaSourceConfig, toClientOptions, toSyncOptions } from './eureka-source.schema';
import { EurekaSourceSyncer, EurekaSyncHooks } from './eureka-source.syncer';

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

/** Poll intervals a source may miss before it is not ready, when no readiness grace is configured. */
const DEFAULT_READY_POLLS = 3;

/** What the collector app adds to a Eureka watch. */
export interface EurekaWatchExtras {
  /** How often the source lease is checked (and a due poll made). */
  leaseCheckSeconds: number;
  /** A source stays ready this long after its last successful read (plus its request timeouts); unset: three poll intervals. */
  readinessGraceSeconds?: number;
  hooks?: EurekaSyncHooks;
  observer?: { leader(held: boolean): void; success(): void; changes(n: number): void; owned(n: number): void; error(op: string): void };
}

/**
 * Watches one Eureka cluster. Only the replica holding the source's lease reads it, so replicas
 * do not multiply the load on Eureka; the others retry the lease every `leaseCheckSeconds` and take
 * over within seconds of the holder's death (lease TTL = member TTL).
 *
 * Source status goes to the writer from the lease holder when it changes, else at most once per
 * heartbeat (the status port re-sends the last one between slow polls), so a 1 s poll does not
 * cost an ingest job a second. A replica that lost the lease forgets the source's status: it must
 * not keep re-sending a stale one.
 */
export class EurekaSourceWatch implements SourceWatch {
  readonly syncer: EurekaSourceSyncer;
  private readonly client: EurekaRestClient;
  private held = false;
  private running?: Promise<void>;
  private nextSyncAt = 0;
  /** Failed reads in a row. */
  private failures = 0;
  private timer?: NodeJS.Timeout;
  private stopped = false;

  constructor(
    private readonly cfg: EurekaSourceConfig,
    private readonly ctx: WatchContext,
    private readonly extras: EurekaWatchExtras,
  ) {
    if (cfg.tls?.insecureSkipVerify) ctx.log.warn({ source: cfg.name }, 'TLS verification is OFF (insecureSkipVerify)');
    this.client = new EurekaRestClient(toClientOptions(cfg));
    const log = ctx.log;
    this.syncer = new EurekaSourceSyncer(this.client, ctx.port, { ...toSyncOptions(cfg), status: this.statusPort() }, extras.hooks, {
      debug: () => undefined,
      info: (o, m) => log.info(o, m),
      warn: (o, m) => log.warn(o, m),
    });
    extras.observer?.leader(false);
    log.info({ source: cfg.name }, `${cfg.serviceUrls.length} server URL(s), poll every ${cfg.pollIntervalSeconds}s, full fetch every ${cfg.fullFetchIntervalSeconds}s`);
  }

  start(): void {
    this.timer = setInterval(() => void this.tick(), this.extras.leaseCheckSeconds * 1000);
    void this.tick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.running?.catch(() => undefined);
    this.client.close();
  }

  ownershipChanged(): void {
    // The source lease, not service ownership, decides who reads; leaseLost says when it moved.
  }

  /** The lease moved to another replica. */
  leaseLost(name: string): void {
    if (name === this.cfg.name) this.standDown('lease lost');
  }

  /** Redis lost its data: the next poll is a full fetch that sends everything and a complete snapshot. */
  resendAll(): void {
    this.syncer.resendAll();
    this.ctx.status.forget?.(this.cfg.name);
    this.nextSyncAt = 0;
  }

  readiness(): { ready: boolean; detail?: string } {
    if (!this.held) return { ready: true, detail: 'standby (another replica holds the source lease)' };
    const last = this.syncer.lastSuccess;
    if (!last) return { ready: false, detail: 'registry not read yet' };
    const graceMs = ((this.extras.readinessGraceSeconds ?? this.cfg.pollIntervalSeconds * DEFAULT_READY_POLLS) + this.cfg.timeoutSeconds * this.cfg.serviceUrls.length) * 1000;
    const age = Date.now() - last.getTime();
    return age <= graceMs ? { ready: true } : { ready: false, detail: `last successful read ${Math.round(age / 1000)}s ago` };
  }

  /** One lease check (and, when due, one sync); public for tests. */
  tick(): Promise<void> {
    if (!this.running && !this.stopped) this.running = this.step().finally(() => (this.running = undefined));
    return this.running ?? Promise.resolve();
  }

  private async step(): Promise<void> {
    const name = this.cfg.name;
    try {
      const held = this.ctx.coordination.holdsLease(name) || (await this.ctx.coordination.leaseFor(name));
      if (!held) {
        if (this.held) this.standDown('lease taken by another replica');
        return;
      }
      if (!this.held) {
        this.held = true;
        this.nextSyncAt = 0;
        this.extras.observer?.leader(true);
        this.ctx.log.info({ source: name }, 'lease acquired, this replica reads it');
      }
      const now = Date.now();
      if (now < this.nextSyncAt) {
        await this.ctx.status.resendIfDue?.(name);
        return;
      }
      const pollMs = this.cfg.pollIntervalSeconds * 1000;
      this.nextSyncAt = now + pollMs;
      const result = await this.syncer.syncOnce();
      this.failures = result ? 0 : this.failures + 1;
      if (!result) this.nextSyncAt = now + retryDelayMs(this.failures, pollMs);
      if (result) {
        this.extras.observer?.success();
        if (result.upserts + result.removes > 0) this.extras.observer?.changes(result.upserts + result.removes);
        this.extras.observer?.owned(this.syncer.serviceCount);
      }
    } catch (err) {
      // Queue trouble (Redis): nothing was concluded, the next poll tries again.
      this.extras.observer?.error('sync');
      this.ctx.log.warn({ source: name, err: (err as Error).message }, 'sync failed');
    }
  }

  private standDown(why: string): void {
    if (!this.held) return;
    this.held = false;
    this.syncer.reset();
    this.ctx.status.forget?.(this.cfg.name);
    this.extras.observer?.leader(false);
    this.ctx.log.info({ source: this.cfg.name }, `${why}; standing by`);
  }

  /** Only the lease holder reports the source's status. */
  private statusPort(): StatusPort {
    return {
      reportChange: async (name, update) => {
        if (!update.reachable) this.extras.observer?.error('unreachable');
        if (!this.held) return;
        await this.ctx.status.reportChange(name, update);
      },
      forget: (name) => this.ctx.status.forget?.(name),
    };
  }
}
