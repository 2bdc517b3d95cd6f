import { LIMITS, serviceKey, type SourceRef } from '@registry-bridge/contract';
import { contentHash, GlobRules, SourceEmitter, type RecordPort, type StatusPort } from '@registry-bridge/source-kit';
import { decodeApplications, EurekaPayloadError, type ApplicationsPayload } from './eureka-payload';
import { DEFAULT_NORMALIZE_OPTIONS, normalizeApp, type DropCounts, type DropReason, type NormalizeOptions, type NormalizedApp } from './eureka-normalizer';
import { EurekaRestClient, EurekaUnavailableError, type EurekaResponse } from './eureka-rest.client';
import { LocalRegistry } from './local-registry';
import { parseSelfPreservation, type SelfPreservationState } from './self-preservation';

export type FullFetchReason = 'start' | 'periodic' | 'hash_mismatch' | 'delta_refused' | 'delta_missed' | 'delta_disabled';

/** Observation points for metrics; every hook is optional. */
export interface EurekaSyncHooks {
  fetch?(kind: 'full' | 'delta', outcome: 'ok' | 'error', seconds: number): void;
  deltaApplied?(): void;
  hashMismatch?(): void;
  fullFetch?(reason: FullFetchReason): void;
  dropped?(reason: DropReason, count: number): void;
  emitted?(type: 'upsert' | 'remove' | 'snapshot', count: number): void;
  unchanged?(count: number): void;
  selfPreservation?(state: SelfPreservationState | undefined): void;
  success?(at: Date): void;
  failure?(error: string): void;
}

export interface EurekaSyncLogger {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface AppFilterOptions {
  /** Only these apps (globs, case-insensitive); empty or absent means all. */
  include?: readonly string[];
  /** Never these apps (globs); wins over include. */
  exclude?: readonly string[];
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

export interface SyncResult {
  mode: 'full' | 'delta';
  fullReason?: FullFetchReason;
  upserts: number;
  removes: number;
  unchanged: number;
  snapshot: boolean;
  hashMismatch: boolean;
  /** The registry read empty after having services; removals and the snapshot were held back. */
  emptyHeld?: boolean;
}

/**
 * One app of the local copy, normalized and hashed. normalizeApp is pure, so this stays right
 * until the app's instances change: a delta drops the entries of the apps it touched, a full
 * fetch drops them all. Filter and normalize options are fixed for a syncer's life (a config
 * change restarts the collector), so they never invalidate an entry.
 */
type PreparedApp =
  | { included: false }
  | { included: true; app?: undefined; drops: DropCounts }
  | { included: true; app: NormalizedApp; drops: DropCounts; key: string; contentHash: string };

/**
 * Next revision of a service key. Eureka's timestamps (lastDirtyTimestamp is set by the instance's
 * own clock) are used when they move forward; otherwise, and after a restart or takeover where
 * the last revision is unknown, the local clock is the floor, so a newer view never carries a
 * lower revision than an older one (e.g. removing the newest instance of an app).
 */
export function nextRevision(registryRevision: number, last: number | undefined, now: number): number {
  if (last === undefined) return Math.max(registryRevision, now);
  return registryRevision > last ? registryRevision : Math.max(last + 1, now);
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
  private readonly normalizeOptions: NormalizeOptions;
  private readonly filter: GlobRules;
  private readonly local = new LocalRegistry();
  private readonly emitter: SourceEmitter;
  private readonly prepared = new Map<string, PreparedApp>();
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
  private lastDashboardAt = 0;
  private selfPreservation?: SelfPreservationState;

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
    this.normalizeOptions = { ...DEFAULT_NORMALIZE_OPTIONS, ...options.normalize, source: this.ref };
    this.filter = new GlobRules({ allow: options.apps?.include, deny: options.apps?.exclude }, { ignoreCase: true });
    this.emitter = new SourceEmitter(this.ref, { port, status: options.status, revision: nextRevision, emptyHoldMs: this.options.emptyHoldMs, now: clock });
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
    return this.selfPreservation;
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
    await this.readDashboard();
    const now = new Date(this.clock());
    this.lastSuccessAt = now;
    this.hooks.success?.(now);
    await this.emitter.status({ reachable: true, conditions: this.conditions() });
    return result;
  }

  private conditions(): Record<string, string | number | boolean> {
    const sp = this.selfPreservation;
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
        return { mode: 'delta', hashMismatch, ...(await this.emitChanges(false)) };
      } else {
        const payload = this.decode(delta);
        this.lastDeltaBody = undefined;
        const { touched } = this.local.applyDelta(payload);
        // Only these apps changed in the local copy; every other prepared app is still right.
        for (const app of touched) this.prepared.delete(app);
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
          return { mode: 'delta', hashMismatch, ...(await this.emitChanges(false)) };
        }
      }
    }
    this.hooks.fullFetch?.(reason);
    const full = await this.timed('full', () => this.client.getApplications());
    const payload = this.decode(full);
    this.local.replace(payload);
    this.prepared.clear();
    this.lastDeltaBody = undefined;
    // Until its snapshot is out, this full fetch does not count: a failed send repeats the full fetch.
    this.hasFull = false;
    const emitted = await this.emitChanges(true);
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

  private decode(res: EurekaResponse): ApplicationsPayload {
    if (res.status !== 200) throw new EurekaHttpError(`${res.server} answered HTTP ${res.status}`);
    let body: unknown;
    try {
      body = JSON.parse(res.body);
    } catch {
      throw new EurekaPayloadError(`${res.server} sent a body that is not JSON`);
    }
    return decodeApplications(body);
  }

  private async emitChanges(complete: boolean): Promise<Omit<SyncResult, 'mode' | 'hashMismatch' | 'fullReason'>> {
    const observedAt = new Date(this.clock()).toISOString();
    let upserts = 0;
    let removes = 0;
    let unchanged = 0;
    const present = new Set<string>();
    const services: { service: string }[] = [];
    for (const appName of this.local.appNames()) {
      const prepared = this.prepare(appName);
      if (!prepared.included) continue;
      const { app, drops } = prepared;
      if (!app) {
        this.countDrops(drops);
        continue;
      }
      const { key, contentHash: hash } = prepared;
      // Two apps differing only in case would be one service; the first (sorted) wins.
      if (present.has(key)) continue;
      present.add(key);
      services.push({ service: app.service });
      // Compared on every round, not only for touched apps: an upsert that failed last round
      // (or a case twin that just took over a key) is sent again.
      const sent = await this.emitter.upsert(
        { source: this.ref, service: app.service, ports: app.ports, endpoints: app.endpoints, metadata: app.metadata, observedAt },
        app.registryRevision,
        hash,
      );
      if (sent === undefined) {
        unchanged++;
        continue;
      }
      this.countDrops(drops);
      upserts++;
    }
    if (this.emitter.holdEmpty(services.length)) {
      this.logger?.warn({ source: this.ref.name, services: this.serviceCount }, 'registry reads empty; holding removals (server restart?)');
      return { upserts, removes, unchanged, snapshot: false, emptyHeld: true };
    }
    for (const key of this.emitter.sentKeys()) {
      if (present.has(key)) continue;
      // A removal outranks the last upsert and the clock (Eureka's revisions are timestamps).
      if (await this.emitter.remove({ service: decodeURIComponent(key.split('/')[2]) }, this.clock())) removes++;
    }
    if (upserts) this.hooks.emitted?.('upsert', upserts);
    if (removes) this.hooks.emitted?.('remove', removes);
    if (unchanged) this.hooks.unchanged?.(unchanged);
    let snapshot = false;
    if (complete) {
      await this.emitter.snapshot(services, true);
      this.hooks.emitted?.('snapshot', 1);
      snapshot = true;
    }
    if (upserts || removes) this.logger?.info({ source: this.ref.name, upserts, removes, unchanged }, 'eureka changes emitted');
    return { upserts, removes, unchanged, snapshot };
  }

  /** The app normalized and hashed, from the cache unless its instances changed since. */
  private prepare(appName: string): PreparedApp {
    let prepared = this.prepared.get(appName);
    if (prepared) return prepared;
    if (!this.filter.passes(appName)) {
      prepared = { included: false };
    } else {
      const { app, drops } = normalizeApp(appName, this.local.instances(appName), this.normalizeOptions);
      prepared = app
        ? {
            included: true,
            app,
            drops,
            key: serviceKey({ source: this.ref.name, service: app.service }),
            contentHash: contentHash({ source: this.ref, service: app.service, ports: app.ports, endpoints: app.endpoints, metadata: app.metadata }),
          }
        : { included: true, drops };
    }
    this.prepared.set(appName, prepared);
    return prepared;
  }

  private countDrops(drops: Partial<Record<DropReason, number>>): void {
    for (const [reason, n] of Object.entries(drops)) if (n) this.hooks.dropped?.(reason as DropReason, n);
  }

  private async readDashboard(): Promise<void> {
    const path = this.options.dashboardPath;
    if (path === undefined) return;
    const now = this.clock();
    if (this.lastDashboardAt && now - this.lastDashboardAt < this.options.dashboardIntervalMs) return;
    this.lastDashboardAt = now;
    let state: SelfPreservationState | undefined;
    try {
      const res = await this.client.getFromOrigin(path, { Accept: 'text/html' }, true);
      // Any status: a dashboard whose instance list fails to render still shows the banners.
      state = parseSelfPreservation(res.body);
    } catch {
      state = undefined;
    }
    if (state?.active && !this.selfPreservation?.active) {
      this.logger?.warn({ source: this.ref.name }, 'eureka is in self-preservation: instances are not expired and may be listed UP while dead');
    }
    this.selfPreservation = state;
    this.hooks.selfPreservation?.(state);
  }
}

export class EurekaHttpError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EurekaHttpError';
  }
}
