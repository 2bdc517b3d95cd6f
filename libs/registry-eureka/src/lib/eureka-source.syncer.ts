import { LIMITS, type SourceRef } from '@registry-bridge/contract';
import { SourceEmitter, type RecordPort, type StatusPort } from '@registry-bridge/source-kit';
import { EurekaPayloadError } from './eureka-payload';
import { DEFAULT_NORMALIZE_OPTIONS, type NormalizeOptions } from './eureka-normalizer';
import { EurekaRestClient, EurekaUnavailableError, type EurekaResponse } from './eureka-rest.client';
import { decodeResponse, EurekaHttpError } from './eureka-response.util';
import { nextRevision } from './eureka-revision.util';
import { LocalCopyEmitter, type EmitCounts, type EmitHooks } from './local-copy.emitter';
import { LocalRegistry } from './local-registry';
import { PreparedAppCache, type AppFilterOptions } from './prepared-app.cache';
import { type SelfPreservationState } from './self-preservation';
import { SelfPreservationMonitor } from './self-preservation.monitor';

export type FullFetchReason = 'start' | 'periodic' | 'hash_mismatch' | 'delta_refused' | 'delta_missed' | 'delta_disabled';

/** Observation points for metrics; every hook is optional. */
export interface EurekaSyncHooks extends EmitHooks {
  fetch?(kind: 'full' | 'delta', outcome: 'ok' | 'error', seconds: number): void;
  deltaApplied?(): void;
  hashMismatch?(): void;
  fullFetch?(reason: FullFetchReason): void;
  selfPreservation?(state: SelfPreservationState | undefined): void;
  success?(at: Date): void;
  failure?(error: string): void;
}

export interface EurekaSyncLogger {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface EurekaSyncOptions {
  /** Configured source name (DNS-1123 label); one source is one Eureka cluster. */
  source: string;
  /** Full `/apps` fetch at least this often, ms. */
  fullFetchIntervalMs: number;
  /** Use `/apps/delta` between full fetches. */
  useDelta: boolean;
  /**
   * The server keeps deltas this long (`retentionTimeInMSInDeltaQueue`, 3 min by default): after a
   * longer gap a delta may have missed changes, so a full fetch is made instead.
   */
  deltaRetentionMs: number;
  apps?: AppFilterOptions;
  normalize?: Partial<Omit<NormalizeOptions, 'source'>>;
  /** Read self-preservation from the dashboard at this path of the server's origin; undefined disables it. */
  dashboardPath?: string;
  /** How often to read the dashboard, ms. */
  dashboardIntervalMs: number;
  /**
   * A registry that was not empty and reads empty is believed only after this long: a restarted
   * Eureka server answers an empty registry until its clients re-register (one heartbeat, 30 s
   * by default), and that must not read as "every service is gone". 0 disables the hold.
   */
  emptyHoldMs: number;
  /** Where the source's status goes (collector-core's SourceStatusReporter); without, straight to the record port. */
  status?: StatusPort;
}

export const DEFAULT_SYNC_OPTIONS: Omit<EurekaSyncOptions, 'source'> = {
  fullFetchIntervalMs: 5 * 60_000,
  useDelta: true,
  deltaRetentionMs: 150_000,
  dashboardPath: '/',
  dashboardIntervalMs: 60_000,
  emptyHoldMs: 90_000,
};

export interface SyncResult extends EmitCounts {
  mode: 'full' | 'delta';
  fullReason?: FullFetchReason;
  hashMismatch: boolean;
}

/**
 * Keeps one Eureka cluster (one source) in step: full fetch at start and periodically, deltas in
 * between checked against `apps__hashcode`, and emission of upserts (only on real change),
 * removes, complete snapshots (only after a successful full fetch) and source status.
 * A failed fetch emits only `sourceStatus(reachable=false)`: nothing that could read as empty.
 */
export class EurekaSourceSyncer {
  readonly ref: SourceRef;
  private readonly options: EurekaSyncOptions;
  private readonly local = new LocalRegistry();
  private readonly emitter: SourceEmitter;
  private readonly prepared: PreparedAppCache;
  private readonly changes: LocalCopyEmitter;
  private readonly selfPreservation: SelfPreservationMonitor;
  /**
   * Body of the last delta applied to the local copy and found to agree with `apps__hashcode`,
   * until anything else changes the copy. Eureka's delta lists every change of the last three
   * minutes, so a quiet registry answers the same body poll after poll; applying it again would
   * change nothing (a delta is idempotent), so it is not even parsed.
   */
  private lastDeltaBody?: string;
  private hasFull = false;
  private lastFullAt = 0;
  private lastFetchAt = 0;
  private lastSuccessAt?: Date;

  constructor(
    private readonly client: EurekaRestClient,
    port: RecordPort,
    options: Partial<EurekaSyncOptions> & { source: string },
    private readonly hooks: EurekaSyncHooks = {},
    private readonly logger?: EurekaSyncLogger,
    private readonly clock: () => number = Date.now,
  ) {
    this.options = { ...DEFAULT_SYNC_OPTIONS, ...options };
    this.ref = { name: options.source, kind: 'eureka' };
    const normalizeOptions: NormalizeOptions = { ...DEFAULT_NORMALIZE_OPTIONS, ...options.normalize, source: this.ref };
    this.emitter = new SourceEmitter(this.ref, { port, status: options.status, revision: nextRevision, emptyHoldMs: this.options.emptyHoldMs, now: clock });
    this.prepared = new PreparedAppCache(this.local, this.ref, normalizeOptions, options.apps);
    this.changes = new LocalCopyEmitter(this.ref, this.local, this.prepared, this.emitter, hooks, clock, logger);
    this.selfPreservation = new SelfPreservationMonitor(
      client,
      this.options,
      (state) => hooks.selfPreservation?.(state),
      () => logger?.warn({ source: this.ref.name }, 'eureka is in self-preservation: instances are not expired and may be listed UP while dead'),
      clock,
    );
  }

  /** Forget everything (after losing the source lease): the next sync starts with a full fetch. */
  reset(): void {
    this.hasFull = false;
    this.emitter.reset();
    this.prepared.clear();
    this.lastDeltaBody = undefined;
    this.local.replace({ hashCode: '', apps: new Map() });
  }

  /**
   * Redis lost its data: the next sync is a full fetch that sends every service again (revisions
   * keep growing) and a complete snapshot.
   */
  resendAll(): void {
    this.hasFull = false;
    this.lastDeltaBody = undefined;
    this.emitter.resendAll();
  }

  /** Services currently emitted for this source. */
  get serviceCount(): number {
    return this.emitter.sentKeys().length;
  }

  get lastSuccess(): Date | undefined {
    return this.lastSuccessAt;
  }

  get selfPreservationState(): SelfPreservationState | undefined {
    return this.selfPreservation.state;
  }

  /** One round. Never throws for registry trouble: that becomes a sourceStatus; sink failures do throw. */
  async syncOnce(): Promise<SyncResult | undefined> {
    let result: SyncResult;
    try {
      result = await this.fetchAndApply();
    } catch (err) {
      if (!(err instanceof EurekaUnavailableError || err instanceof EurekaPayloadError || err instanceof EurekaHttpError)) throw err;
      const error = err.message.slice(0, LIMITS.error);
      this.hooks.failure?.(error);
      this.logger?.warn({ source: this.ref.name, err: error }, 'eureka fetch failed; source reported unreachable');
      await this.emitter.status({ reachable: false, error, conditions: this.conditions() });
      return undefined;
    }
    await this.selfPreservation.readIfDue();
    const now = new Date(this.clock());
    this.lastSuccessAt = now;
    this.hooks.success?.(now);
    await this.emitter.status({ reachable: true, conditions: this.conditions() });
    return result;
  }

  private conditions(): Record<string, string | number | boolean> {
    const sp = this.selfPreservation.state;
    return {
      selfPreservation: sp ? sp.active : 'unknown',
      ...(sp && { selfPreservationEnabled: sp.enabled, renewsBelowThreshold: sp.belowRenewThreshold }),
      server: this.client.activeServer.slice(0, 256),
      applications: this.local.size,
    };
  }

  private fullReason(now: number): FullFetchReason | undefined {
    if (!this.hasFull) return 'start';
    if (!this.options.useDelta) return 'delta_disabled';
    if (now - this.lastFullAt >= this.options.fullFetchIntervalMs) return 'periodic';
    if (now - this.lastFetchAt >= this.options.deltaRetentionMs) return 'delta_missed';
    return undefined;
  }

  private async fetchAndApply(): Promise<SyncResult> {
    const now = this.clock();
    let reason = this.fullReason(now);
    let hashMismatch = false;
    if (reason === undefined) {
      const delta = await this.timed('delta', () => this.client.getDelta());
      if (delta.status === 403 || delta.status === 404) {
        // Delta disabled on the server or access not yet allowed: Eureka's own client falls back to a full fetch.
        reason = 'delta_refused';
      } else if (delta.status === 200 && delta.body === this.lastDeltaBody) {
        this.hooks.deltaApplied?.();
        this.lastFetchAt = now;
        return { mode: 'delta', hashMismatch, ...(await this.changes.emit(false)) };
      } else {
        const payload = decodeResponse(delta);
        this.lastDeltaBody = undefined;
        const { touched } = this.local.applyDelta(payload);
        this.prepared.invalidate(touched);
        this.hooks.deltaApplied?.();
        const localHash = this.local.hashCode();
        if (localHash !== payload.hashCode) {
          hashMismatch = true;
          this.hooks.hashMismatch?.();
          this.logger?.info({ source: this.ref.name, server: payload.hashCode, local: localHash }, 'apps__hashcode differs after delta; full fetch');
          reason = 'hash_mismatch';
        } else {
          this.lastDeltaBody = delta.body;
          this.lastFetchAt = now;
          return { mode: 'delta', hashMismatch, ...(await this.changes.emit(false)) };
        }
      }
    }
    this.hooks.fullFetch?.(reason);
    const full = await this.timed('full', () => this.client.getApplications());
    const payload = decodeResponse(full);
    this.local.replace(payload);
    this.prepared.clear();
    this.lastDeltaBody = undefined;
    // Until its snapshot is out, this full fetch does not count: a failed send repeats the full fetch.
    this.hasFull = false;
    const emitted = await this.changes.emit(true);
    this.hasFull = true;
    this.lastFullAt = now;
    this.lastFetchAt = now;
    return { mode: 'full', fullReason: reason, hashMismatch, ...emitted };
  }

  private async timed(kind: 'full' | 'delta', fn: () => Promise<EurekaResponse>): Promise<EurekaResponse> {
    const started = performance.now();
    try {
      const res = await fn();
      const ok = res.status === 200 || (kind === 'delta' && (res.status === 403 || res.status === 404));
      this.hooks.fetch?.(kind, ok ? 'ok' : 'error', (performance.now() - started) / 1000);
      return res;
    } catch (err) {
      this.hooks.fetch?.(kind, 'error', (performance.now() - started) / 1000);
      throw err;
    }
  }
}
