import { serviceKey, SourceRef } from '@registry-bridge/contract';
import { SourceEmitter, SourceHealth } from '@registry-bridge/source-kit';
import { nextIndex, rateLimitDelay, recoveryTimeoutMs } from './blocking-index';
import { CentralProtocols, centralProtocolOf, NO_CENTRAL_PROTOCOLS, proxyDefaultsProtocol, serviceDefaultsProtocols } from './consul-config-entries';
import { ConsulHttpClient, ConsulRequestError } from './consul-http.client';
import { ConsulHealthEntry, DropReason, maxModifyIndex, normalizeService } from './consul-normalize';
import { ConsulLineage } from './consul-lineage';
import { ConsulSourceConfig, sourceScope } from './consul-source.schema';
import { ConsulConditions } from './consul-source-health';
import { ConsulOwnership, ConsulWatcherMetrics, ConsulWatchLog, NOOP_CONSUL_METRICS, WatchLoop } from './consul-watch.types';
import { HealthStateDetector } from './health-state-detector';
import { ServiceFilter } from './service-filter';
import { runWatchLoop, sleep } from './watch-loop';

/** The config entry kinds that can say a service's protocol. */
type ProtocolEntryKind = 'service-defaults' | 'proxy-defaults';

interface ServiceState {
  name: string;
  key: string;
  index: number;
  /** A record of it was sent (the emitter keeps its hash and revision). */
  sent: boolean;
  /** Consul answered for it at least once. */
  read?: boolean;
  /** Services whose instances are all proxies/gateways: not workloads, never emitted. */
  excluded: boolean;
  lastChangeAt: number;
  nodes: Set<string>;
  watch?: AbortController;
  lastError?: string;
}

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
 */
export class ConsulSourceWatcher {
  readonly source: SourceRef;
  private readonly scope?: string;
  private readonly filter: ServiceFilter;
  private readonly abort = new AbortController();
  private readonly services = new Map<string, ServiceState>();
  private catalog = new Map<string, string[]>();
  private catalogIndex = 0;
  private catalogFiltered = false;
  private readonly lineage: ConsulLineage;
  private readonly pool = new Set<string>();
  private pollQueue: string[] = [];
  private readonly urgent = new Set<string>();
  private healthState?: HealthStateDetector;
  private health: { reachable: boolean; lastSuccessAt?: number; error?: string } & ConsulConditions = {
    reachable: false,
    aclFiltered: false,
    aclHiddenServices: 0,
    services: 0,
    blockingWatches: 0,
  };
  private owned = 0;
  /** Services whose last health read Consul filtered by ACLs. */
  private readonly aclHidden = new Set<string>();
  /** Protocols from config entries, and the blocking index and last error per entry kind. */
  private central: CentralProtocols = NO_CENTRAL_PROTOCOLS;
  private readonly configIndex: Record<ProtocolEntryKind, number> = { 'service-defaults': 0, 'proxy-defaults': 0 };
  private readonly configError = new Map<ProtocolEntryKind, string>();
  private lastSnapshotAt = 0;
  private lastSnapshotSig = '';
  private wake?: () => void;
  /** Aborted (and replaced) when Consul answers again: cuts the backoff of every other loop short. */
  private recovered = new AbortController();
  private readonly loops = new Set<Promise<void>>();
  /** Called when a service was read or the catalog applied (a one-shot read waits on it). */
  onProgress?: () => void;

  constructor(
    private readonly cfg: ConsulSourceConfig,
    private readonly client: ConsulHttpClient,
    private readonly emitter: SourceEmitter,
    private readonly ownership: ConsulOwnership,
    private readonly log: ConsulWatchLog,
    private readonly metrics: ConsulWatcherMetrics = NOOP_CONSUL_METRICS,
    private readonly now: () => number = Date.now,
  ) {
    this.source = { name: cfg.name, kind: 'consul' };
    this.scope = sourceScope(cfg);
    this.filter = new ServiceFilter(cfg.filters);
    this.lineage = new ConsulLineage(cfg.name, client, log, now);
  }

  get status(): SourceHealth {
    const { reachable, lastSuccessAt, error, ...conditions } = this.health;
    return { reachable, ...(lastSuccessAt !== undefined && { lastSuccessAt }), ...(error && { error }), conditions: { ...conditions } };
  }

  /** Services this replica watches. */
  get ownedServices(): number {
    return this.owned;
  }

  get currentLineage(): string | undefined {
    return this.lineage.current;
  }

  /**
   * For a one-shot read: services listed and not read yet, the ones left out because all their
   * instances are Connect proxies or gateways, and the last read error of each.
   */
  readProgress(): { pending: string[]; excluded: string[]; errors: Map<string, string> } {
    const pending: string[] = [];
    const excluded: string[] = [];
    const errors = new Map<string, string>();
    for (const st of this.services.values()) {
      if (st.excluded) excluded.push(st.name);
      else if (!st.read) pending.push(st.name);
      if (st.lastError) errors.set(st.name, st.lastError);
    }
    return { pending, excluded, errors };
  }

  /** Names of the services in the blocking pool (for tests and the debug log). */
  blockingPool(): string[] {
    return [...this.pool];
  }

  async start(): Promise<void> {
    this.lineage.current = await this.lineage.read(this.abort.signal);
    if (this.cfg.normalize.protocolFromConfigEntries) {
      // Read once before the first service read, so first records already carry the protocol;
      // with the short timeout, so a Consul down at start does not hold the start up.
      const kinds: ProtocolEntryKind[] = ['service-defaults', 'proxy-defaults'];
      await Promise.all(kinds.map((k) => this.readProtocolEntries(k, this.abort.signal, 0, this.cfg.watch.recoveryTimeoutMs).catch((err) => this.recordConfigError(k, err))));
      for (const k of kinds) this.track(this.loop('config', this.abort.signal, (sig, failures) => this.readProtocolEntries(k, sig, failures), { onError: (err) => this.recordConfigError(k, err), quiet: true }));
    }
    this.track(this.catalogLoop());
    this.track(this.pollLoop());
  }

  async stop(): Promise<void> {
    this.abort.abort();
    for (const s of this.services.values()) s.watch?.abort();
    this.healthState?.abort.abort();
    this.wake?.();
    await Promise.allSettled([...this.loops]);
    this.client.close();
  }

  private track(p: Promise<void>): void {
    this.loops.add(p);
    void p.finally(() => this.loops.delete(p));
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
    for (const s of this.services.values()) {
      s.sent = false;
      this.reread(s);
    }
    this.lastSnapshotSig = '';
    this.lastSnapshotAt = 0;
    this.rebalance();
    this.wake?.();
    void this.maybeSnapshot().catch((err) => this.log.warn({ source: this.cfg.name, err: (err as Error).message }, 'snapshot after a Redis reset not sent; the next catalog read retries'));
  }

  /** Reads a service again at once, non-blocking (a blocking read would sit out its wait); call rebalance() after. */
  private reread(s: ServiceState): void {
    s.index = 0;
    s.watch?.abort();
    this.pool.delete(s.name);
    this.urgent.add(s.name);
  }

  // ---------------------------------------------------------------- protocol config entries

  /**
   * One read of a config entry kind (blocking on its index once read, non-blocking after a
   * failure); services whose central protocol changed are read again and re-sent.
   */
  private async readProtocolEntries(kind: ProtocolEntryKind, signal: AbortSignal, failures: number, timeoutMs?: number): Promise<void> {
    const previous = this.configIndex[kind];
    const blocking = failures === 0 && previous > 0;
    this.metrics.request('config', blocking ? 'blocking' : 'poll');
    const r = await this.client.get<unknown>(`/v1/config/${kind}`, {
      index: blocking ? previous : 0,
      waitMs: this.cfg.watch.waitMs,
      signal,
      timeoutMs: failures > 0 ? this.recoveryTimeout(failures) : timeoutMs,
    });
    const step = nextIndex(previous, r.index);
    this.configIndex[kind] = step.next;
    if (this.configError.delete(kind)) this.log.info({ source: this.cfg.name, kind }, 'Consul config entries readable again');
    if (step.verdict === 'unchanged') return;
    this.metrics.changeSeen('config');
    const next: CentralProtocols =
      kind === 'service-defaults' ? { ...this.central, byService: serviceDefaultsProtocols(r.body) } : { ...this.central, global: proxyDefaultsProtocol(r.body) };
    const before = this.central;
    this.central = next;
    let changed = 0;
    for (const st of this.services.values()) {
      if (centralProtocolOf(before, st.name) === centralProtocolOf(next, st.name) || !st.sent) continue;
      this.reread(st);
      changed++;
    }
    if (changed) this.rebalance();
  }

  /** A config entry kind that cannot be read leaves protocols as they were; said once per error. */
  private recordConfigError(kind: ProtocolEntryKind, err: unknown): void {
    const msg = (err as Error)?.message ?? String(err);
    if (this.configError.get(kind) === msg) return;
    this.configError.set(kind, msg);
    this.log.warn({ source: this.cfg.name, kind, err: msg }, 'Consul config entries not read: protocols from them stay as last read (Meta.protocol and defaultProtocol still apply)');
  }

  // ---------------------------------------------------------------- lineage

  /** The catalog index went backwards; when Consul was rebuilt, every service is read again with revisions restarting. */
  private async onCatalogWentBackwards(previous: number, returned: number): Promise<void> {
    if (!(await this.lineage.wentBackwards(previous, returned, this.abort.signal))) return;
    for (const s of this.services.values()) {
      s.index = 0;
      // revisions restart with the new lineage
      this.emitter.forget(s.key);
      s.sent = false;
      this.urgent.add(s.name);
    }
    this.wake?.();
  }

  // ---------------------------------------------------------------- catalog

  private catalogLoop(): Promise<void> {
    const w = this.cfg.watch;
    return this.loop('catalog', this.abort.signal, async (signal, failures) => {
      // After a failure, a non-blocking read: on an unchanged index a blocking one would return
      // only when its wait ends, however soon Consul answers again (issue 15.2).
      const blocking = failures === 0 && this.catalogIndex > 0;
      this.metrics.request('catalog', blocking ? 'blocking' : 'poll');
      const expr = this.filter.catalogExpression();
      const r = await this.client.get<Record<string, string[] | null>>('/v1/catalog/services', {
        index: blocking ? this.catalogIndex : 0,
        waitMs: w.waitMs,
        signal,
        query: expr ? { filter: expr } : undefined,
        ...(failures > 0 && { timeoutMs: this.recoveryTimeout(failures) }),
      });
      const step = nextIndex(this.catalogIndex, r.index);
      if (step.verdict === 'reset') {
        this.metrics.indexReset('catalog');
        if (this.catalogIndex > 1 && (r.index ?? 0) < this.catalogIndex) await this.onCatalogWentBackwards(this.catalogIndex, r.index ?? 0);
      }
      this.catalogIndex = step.next;
      // Consul sets the filtered header only for real tokens: anonymous reads under default-deny
      // come back silently empty, so without a token such an answer proves nothing.
      const filtered = r.filteredByAcl || (!this.cfg.token && r.defaultAclPolicy === 'deny');
      if (filtered !== this.catalogFiltered || !this.health.lastSuccessAt) this.catalogFilterChanged(filtered, Object.keys(r.body ?? {}).length);
      this.catalogFiltered = filtered;
      this.markReachable();
      if (step.verdict !== 'unchanged' || this.snapshotDue()) {
        if (step.verdict !== 'unchanged') this.metrics.changeSeen('catalog');
        await this.applyCatalog(r.body, r.index ?? this.catalogIndex);
      }
    }, { onError: (err) => this.markUnreachable(err), backoffMaxMs: Math.min(w.backoffMaxMs, w.recoveryProbeMaxMs) });
  }

  private recoveryTimeout(failures: number): number {
    return recoveryTimeoutMs(failures, this.cfg.watch.recoveryTimeoutMs, this.cfg.watch.requestTimeoutMs);
  }

  /** One watch loop of this source (see runWatchLoop); `step` learns how many reads failed in a row. */
  private loop(
    name: WatchLoop,
    signal: AbortSignal,
    step: (signal: AbortSignal, failures: number) => Promise<void>,
    o: { service?: string; onError?: (err: unknown) => void; backoffMaxMs?: number; quiet?: boolean } = {},
  ): Promise<void> {
    return runWatchLoop(signal, step, {
      ...this.cfg.watch,
      ...(o.backoffMaxMs !== undefined && { backoffMaxMs: o.backoffMaxMs }),
      now: this.now,
      // the catalog read decides reachability: it never waits for itself
      recovered: () => (name === 'catalog' ? undefined : this.recovered.signal),
      failed: (err) => {
        if (o.quiet) this.metrics.error(name, err instanceof ConsulRequestError ? err.kind : 'network');
        else this.recordError(name, err, o.service);
        o.onError?.(err);
      },
    });
  }

  private async applyCatalog(body: Record<string, string[] | null>, index: number): Promise<void> {
    const next = new Map<string, string[]>();
    for (const [name, tags] of Object.entries(body ?? {})) {
      const t = (tags ?? []).filter((x): x is string => typeof x === 'string');
      if (!this.filter.skipReason(name, t)) next.set(name, t);
    }
    const previous = this.catalog;
    this.catalog = next;

    for (const [name, tags] of next) {
      const before = previous.get(name);
      if (!before || before.join('\u0000') !== tags.join('\u0000')) this.urgent.add(name);
    }
    // Gone from a successful, unfiltered read: a removal. A filtered read proves nothing.
    if (!this.catalogFiltered) {
      for (const name of previous.keys()) {
        if (next.has(name)) continue;
        const st = this.services.get(name);
        if (st) {
          st.watch?.abort();
          this.services.delete(name);
          this.pool.delete(name);
          this.setAclHidden(name, false);
          if (st.sent && !st.excluded && this.ownership.owns(st.key)) {
            if (await this.emitter.remove({ service: name, scope: this.scope, lineage: this.lineage.current }, index)) this.metrics.emitted('remove');
          } else {
            this.emitter.forget(st.key);
          }
        }
      }
    }
    this.rebalance();
    await this.maybeSnapshot();
    this.onProgress?.();
  }

  private snapshotDue(): boolean {
    return this.now() - this.lastSnapshotAt >= this.cfg.watch.snapshotIntervalMs;
  }

  private async maybeSnapshot(): Promise<void> {
    if (!(await this.ownership.snapshotLease())) {
      // Not the holder: when the lease comes our way, send at once.
      this.lastSnapshotSig = '';
      this.lastSnapshotAt = 0;
      return;
    }
    const services = [...this.catalog.keys()]
      .filter((n) => !this.services.get(n)?.excluded)
      .sort()
      .map((service) => (this.scope ? { service, scope: this.scope } : { service }));
    const complete = !this.catalogFiltered;
    const sig = `${complete}|${services.map((s) => s.service).join('\u0000')}`;
    if (sig === this.lastSnapshotSig && !this.snapshotDue()) return;
    await this.emitter.snapshot(services, complete);
    this.metrics.emitted('snapshot');
    this.lastSnapshotSig = sig;
    this.lastSnapshotAt = this.now();
  }

  // ---------------------------------------------------------------- ownership and the pool

  private keyOf(name: string): string {
    return serviceKey({ source: this.cfg.name, scope: this.scope, service: name });
  }

  private rebalance(): void {
    const owned: ServiceState[] = [];
    for (const name of this.catalog.keys()) {
      const key = this.keyOf(name);
      let st = this.services.get(name);
      if (!this.ownership.owns(key)) {
        if (st) {
          st.watch?.abort();
          this.services.delete(name);
          this.pool.delete(name);
          this.setAclHidden(name, false);
          this.emitter.forget(st.key);
        }
        continue;
      }
      if (!st) {
        st = { name, key, index: 0, sent: false, excluded: false, lastChangeAt: 0, nodes: new Set() };
        this.services.set(name, st);
        this.urgent.add(name);
      }
      owned.push(st);
    }
    for (const name of [...this.services.keys()]) if (!this.catalog.has(name)) this.services.get(name)?.watch?.abort();

    // The pool goes to the services that changed most recently; ties by name keep it stable.
    const k = this.cfg.watch.maxBlockingWatches;
    const ranked = owned.filter((s) => !s.excluded).sort((a, b) => b.lastChangeAt - a.lastChangeAt || (a.name < b.name ? -1 : 1));
    const want = new Set(ranked.slice(0, k).map((s) => s.name));
    for (const name of [...this.pool]) {
      if (!want.has(name)) {
        this.services.get(name)?.watch?.abort();
        this.pool.delete(name);
      }
    }
    for (const name of want) if (!this.pool.has(name)) this.startBlockingWatch(name);
    this.pollQueue = ranked.filter((s) => !this.pool.has(s.name)).map((s) => s.name);
    this.health.services = this.catalog.size;
    this.health.blockingWatches = this.pool.size;
    if (this.owned !== owned.length) this.metrics.owned(owned.length);
    this.owned = owned.length;
    this.metrics.watchesActive(this.pool.size);

    if (this.pollQueue.length > 0 && !this.healthState) this.startHealthStateWatch();
    if (this.pollQueue.length === 0 && this.healthState) {
      this.healthState.abort.abort();
      this.healthState = undefined;
    }
    if (this.urgent.size) this.wake?.();
  }

  private startBlockingWatch(name: string): void {
    const st = this.services.get(name);
    if (!st) return;
    this.pool.add(name);
    this.urgent.delete(name);
    const ctl = new AbortController();
    st.watch = ctl;
    const signal = AbortSignal.any([ctl.signal, this.abort.signal]);
    this.track(
      this.loop('service', signal, (sig, failures) => this.readService(st, true, sig, failures), { service: name }).finally(() => {
        if (st.watch === ctl) st.watch = undefined;
      }),
    );
  }

  // ---------------------------------------------------------------- service reads

  private async readService(st: ServiceState, pooled: boolean, signal: AbortSignal, failures = 0): Promise<void> {
    const expr = this.cfg.filters.healthExpression;
    const blocking = pooled && failures === 0 && st.index > 0;
    this.metrics.request('service', blocking ? 'blocking' : 'poll');
    const r = await this.client.get<ConsulHealthEntry[]>(`/v1/health/service/${encodeURIComponent(st.name)}`, {
      index: blocking ? st.index : 0,
      waitMs: this.cfg.watch.waitMs,
      signal,
      query: expr ? { filter: expr } : undefined,
      ...(failures > 0 && { timeoutMs: this.recoveryTimeout(failures) }),
    });
    if (r.filteredByAcl || (!this.cfg.token && r.defaultAclPolicy === 'deny')) {
      // Entries hidden by ACLs would read as "instances gone": refuse the answer instead.
      this.metrics.dropped('acl_filtered', 1);
      this.setAclHidden(st.name, true);
      throw new ConsulRequestError(
        'acl',
        `Consul hid instances of ${st.name} from this token (X-Consul-Results-Filtered-By-ACLs on /v1/health/service): it needs node:read on their nodes (e.g. node_prefix "" { policy = "read" }) besides service:read on ${st.name}; its last record is held`,
      );
    }
    this.setAclHidden(st.name, false);
    const step = nextIndex(st.index, r.index);
    if (step.verdict === 'reset') this.metrics.indexReset('service');
    st.index = step.next;
    st.lastError = undefined;
    if (step.verdict === 'unchanged' && st.sent) return;
    this.metrics.changeSeen('service');
    // Consul has a service only while it has an instance: no entry at all means the service is
    // gone (or the agent was wiped), which is the catalog's to say, through a removal and the
    // writer's deletion rules. Sent as an upsert with no instance it would empty the ServiceEntry
    // around the budget, and a wiped agent would empty every one of them.
    if (Array.isArray(r.body) && r.body.length === 0 && st.sent) return;
    await this.process(st, Array.isArray(r.body) ? r.body : [], Math.max(r.index ?? 0, maxModifyIndex(r.body ?? [])), this.now());
  }

  private async process(st: ServiceState, entries: ConsulHealthEntry[], observedIndex: number, receivedAt: number): Promise<void> {
    try {
      await this.emitService(st, entries, observedIndex, receivedAt);
    } finally {
      st.read = true;
      this.onProgress?.();
    }
  }

  private async emitService(st: ServiceState, entries: ConsulHealthEntry[], observedIndex: number, receivedAt: number): Promise<void> {
    const observedAt = new Date(this.now()).toISOString();
    const res = normalizeService(entries, {
      source: this.source,
      service: st.name,
      scope: this.scope,
      datacenter: this.cfg.datacenter,
      revision: 0,
      lineage: this.lineage.current,
      observedAt,
      options: this.cfg.normalize,
      instanceTagsPass: (t) => this.filter.instanceTagsPass(t),
      includeConnect: this.cfg.filters.includeConnect,
      centralProtocol: centralProtocolOf(this.central, st.name),
    });
    for (const [reason, n] of Object.entries(res.drops)) this.metrics.dropped(reason as DropReason, n ?? 0);
    st.nodes = new Set(entries.map((e) => e.Node?.Node).filter((n): n is string => !!n));
    if (res.onlyProxies) {
      if (!st.excluded) this.log.info({ source: this.cfg.name, service: st.name }, 'service has only Connect proxy/gateway instances: not synced');
      st.excluded = true;
      return;
    }
    st.excluded = false;
    if (!this.ownership.owns(st.key) || this.abort.signal.aborted) return;
    // Later changes always carry a higher revision, even when a per-service index went backwards.
    const revision = await this.emitter.upsert(res.record, observedIndex);
    if (revision === undefined) {
      this.metrics.emitted('unchanged');
      return;
    }
    this.metrics.emitted('upsert');
    this.metrics.changeLatency((this.now() - receivedAt) / 1000);
    const first = !st.sent;
    st.sent = true;
    if (!first) {
      st.lastChangeAt = this.now();
      if (!this.pool.has(st.name)) this.rebalance();
    }
  }

  // ---------------------------------------------------------------- outside the pool

  private startHealthStateWatch(): void {
    const detector = new HealthStateDetector(this.client, this.metrics, this.cfg.watch.waitMs, (failures) => this.recoveryTimeout(failures));
    this.healthState = detector;
    const signal = AbortSignal.any([detector.abort.signal, this.abort.signal]);
    this.track(
      this.loop('health_state', signal, async (sig, failures) => {
        const changed = await detector.step(sig, failures);
        if (!changed) return;
        changed.services.forEach((name) => this.markDirty(name));
        if (changed.nodes.size) for (const s of this.services.values()) if ([...s.nodes].some((n) => changed.nodes.has(n))) this.markDirty(s.name);
      }),
    );
  }

  private markDirty(name: string): void {
    if (this.pool.has(name) || !this.services.has(name)) return;
    this.urgent.add(name);
    this.wake?.();
  }

  /** Short reads: urgent services first (new, tag change, health flip), then round-robin at the configured rate. */
  private async pollLoop(): Promise<void> {
    const signal = this.abort.signal;
    const w = this.cfg.watch;
    const spacing = 1000 / w.pollRatePerSecond;
    let cursor = 0;
    let inflight = 0;
    const slots: Array<() => void> = [];
    const acquire = async (): Promise<void> => {
      while (inflight >= w.pollConcurrency) await new Promise<void>((r) => slots.push(r));
      inflight++;
    };
    const release = (): void => {
      inflight--;
      slots.shift()?.();
    };
    let lastRoundRobin = 0;
    while (!signal.aborted) {
      let name: string | undefined;
      const urgent = [...this.urgent].find((n) => this.services.has(n) && !this.pool.has(n));
      if (urgent) {
        this.urgent.delete(urgent);
        name = urgent;
      } else {
        for (const n of [...this.urgent]) if (!this.services.has(n) || this.pool.has(n)) this.urgent.delete(n);
        const wait = this.pollQueue.length ? rateLimitDelay(lastRoundRobin, this.now(), spacing) : 60000;
        if (wait > 0) {
          await new Promise<void>((resolve) => {
            this.wake = resolve;
            void sleep(wait, signal).then(resolve);
          });
          this.wake = undefined;
          continue;
        }
        lastRoundRobin = this.now();
        if (cursor >= this.pollQueue.length) cursor = 0;
        name = this.pollQueue[cursor++];
      }
      const st = name ? this.services.get(name) : undefined;
      if (!st || this.pool.has(st.name)) continue;
      await acquire();
      void this.readService(st, false, signal)
        .catch((err) => {
          if (!signal.aborted) this.recordError('service', err, st.name);
        })
        .finally(release);
    }
  }

  // ---------------------------------------------------------------- status

  private recordError(loop: WatchLoop, err: unknown, service?: string): void {
    const e = err instanceof ConsulRequestError ? err : new ConsulRequestError('network', (err as Error)?.message ?? String(err));
    this.metrics.error(loop, e.kind);
    const st = service ? this.services.get(service) : undefined;
    if (st && st.lastError === e.message) return; // log a persistent per-service error once
    if (st) st.lastError = e.message;
    this.log.warn({ source: this.cfg.name, loop, service, kind: e.kind, err: e.message }, 'Consul read failed');
  }

  /** Says it once per change, as a warning naming the missing permission (issue 15.3). */
  private catalogFilterChanged(filtered: boolean, visible: number): void {
    this.metrics.aclFiltered('catalog', filtered ? 1 : 0);
    if (!filtered) {
      if (this.catalogFiltered) this.log.info({ source: this.cfg.name }, 'Consul no longer filters the catalog by ACLs: snapshots are complete again');
      return;
    }
    const what = this.cfg.token
      ? `the ACL token lacks service:read on ${visible ? 'some' : 'every'} service (Consul answered /v1/catalog/services with X-Consul-Results-Filtered-By-ACLs; ${visible} visible): grant service:read on all services (service_prefix "" { policy = "read" }) and node:read (node_prefix "" { policy = "read" }), and narrow what is synced with filters`
      : `no ACL token is configured and Consul's ACL default policy is deny (${visible} services visible): configure a token with service:read and node:read`;
    this.log.warn({ source: this.cfg.name, visible }, `Consul hides services from this collector: ${what}; until then snapshots are sent incomplete and the writer deletes nothing for this source`);
  }

  private setAclHidden(name: string, hidden: boolean): void {
    const had = this.aclHidden.has(name);
    if (hidden === had) return;
    if (hidden) this.aclHidden.add(name);
    else this.aclHidden.delete(name);
    this.health = { ...this.health, aclHiddenServices: this.aclHidden.size };
    this.metrics.aclFiltered('health', this.aclHidden.size);
  }

  private markReachable(): void {
    const was = this.health.reachable;
    this.health = {
      ...this.health,
      reachable: true,
      lastSuccessAt: this.now(),
      aclFiltered: this.catalogFiltered,
      error: this.catalogFiltered
        ? this.cfg.token
          ? 'Consul filtered the catalog by ACLs: the token lacks service:read on some services, snapshots are sent incomplete'
          : 'Consul ACL default policy is deny and no token is configured: the catalog cannot be read in full, snapshots are sent incomplete'
        : undefined,
    };
    if (!was) {
      this.log.info({ source: this.cfg.name }, 'Consul reachable');
      // the other loops re-read at once instead of sitting out their backoff
      this.recovered.abort();
      this.recovered = new AbortController();
    }
    this.sendStatus();
  }

  private markUnreachable(err: unknown): void {
    const was = this.health.reachable;
    this.health = { ...this.health, reachable: false, error: (err as Error)?.message?.slice(0, 2000) ?? 'unknown error' };
    if (was) this.log.error({ source: this.cfg.name, err: this.health.error }, 'Consul unreachable: holding everything as it was');
    this.sendStatus();
    this.onProgress?.();
  }

  /** On every reachability transition and after each successful catalog read; the status port sends changes at once. */
  private sendStatus(): void {
    const { reachable, error, conditions } = this.status;
    void this.emitter.status({ reachable, ...(error && { error }), conditions }).catch((err) => this.log.warn({ source: this.cfg.name, err: (err as Error).message }, 'source status not sent'));
  }
}
