import { LIMITS, serviceKey } from '@registry-bridge/contract';
import { SourceEmitter, SourceEmitterOptions, SourceHealth } from '@registry-bridge/source-kit';
import type { CloudMapSourceConfig } from './cloudmap-config.schema';
import { buildServiceRecord, CloudMapServiceRef, DropCounts } from './cloudmap-normalize.util';
import { CloudMapReader } from './cloudmap-reader.service';
import { NameFilter } from './name-filter.util';

/** Sharing work between replicas; collector-core's MembershipService fits. */
export interface WatcherCoordination {
  owns(serviceKey: string): boolean;
  /** Takes or renews the named lease; true while this replica holds it. */
  leaseFor(name: string): Promise<boolean>;
}

export type ChangeKind = 'added' | 'revision' | 'health' | 'removed';

export interface WatcherObserver {
  onDrops(drops: DropCounts): void;
  onChange(kind: ChangeKind): void;
  onSkip(reason: 'revision-unchanged' | 'content-unchanged'): void;
  onServices(total: number, owned: number): void;
  onSuccess(at: number): void;
  onError(phase: 'inventory' | 'poll', error: unknown): void;
  onCycle(phase: 'inventory' | 'poll', seconds: number): void;
}

export const NOOP_WATCHER_OBSERVER: WatcherObserver = {
  onDrops: () => undefined,
  onChange: () => undefined,
  onSkip: () => undefined,
  onServices: () => undefined,
  onSuccess: () => undefined,
  onError: () => undefined,
  onCycle: () => undefined,
};

/** Single replica: owns everything, always holds the lease. */
export const SINGLE_REPLICA: WatcherCoordination = { owns: () => true, leaseFor: async () => true };

interface ServiceState {
  ref: CloudMapServiceRef;
  /** Last InstancesRevision compared against DiscoverInstancesRevision. */
  seenRevision?: number;
  nextHealthAt: number;
}

export interface WatcherDeps {
  reader: CloudMapReader;
  /** Records, snapshots and status of this source. Without a status port of its own, the watcher re-sends its status every `intervals.statusSeconds`. */
  emitter: SourceEmitter;
  /** The emitter's status port re-sends on its own timer (collector-core's SourceStatusReporter). */
  statusHeartbeats?: boolean;
  coordination?: WatcherCoordination;
  observer?: WatcherObserver;
  now?: () => number;
  /** Called with messages worth a log line (never secrets: AWS error names and messages only). */
  log?: (level: 'info' | 'warn', message: string, fields?: Record<string, unknown>) => void;
}

/** The emitter of a Cloud Map source: a removal carries the last revision sent (the writer breaks the tie by observedAt). */
export function cloudMapEmitter(source: string, options: Omit<SourceEmitterOptions, 'removalRevision'>): SourceEmitter {
  return new SourceEmitter({ name: source, kind: 'cloudmap' }, { ...options, removalRevision: (_registry, last) => last });
}

const NOT_FOUND = new Set(['ServiceNotFound', 'NamespaceNotFound']);

class SinkError extends Error {
  constructor(override readonly cause: unknown) {
    super('sink failed');
  }
}

export function describeError(err: unknown): string {
  const e = err as { name?: string; message?: string };
  const text = e && typeof e === 'object' ? `${e.name ?? 'Error'}: ${e.message ?? ''}` : String(err);
  return text.slice(0, LIMITS.error);
}

/**
 * Watches one Cloud Map source. Inventory (ListNamespaces + ListServices, fully paginated) at a
 * slow cadence, then per owned service: DiscoverInstancesRevision, and DiscoverInstances when it
 * moved or a health re-read is due. A failed read never produces a removal or a snapshot.
 */
export class CloudMapWatcher {
  private inventory?: Map<string, CloudMapServiceRef>;
  private readonly states = new Map<string, ServiceState>();
  private health: { reachable: boolean; inventoryReady: boolean; lastSuccessAt?: number; error?: string } = { reachable: false, inventoryReady: false };
  private inventoryFailed = false;
  private pollFailed = false;
  private readonly filter: NameFilter;
  private readonly coordination: WatcherCoordination;
  private readonly observer: WatcherObserver;
  private readonly now: () => number;
  private started = false;
  private stopped = false;
  private loops: Promise<void>[] = [];
  private readonly wakers = new Set<() => void>();
  private inventoryDue = 0;

  constructor(
    readonly config: CloudMapSourceConfig,
    private readonly deps: WatcherDeps,
  ) {
    this.filter = new NameFilter(config);
    this.coordination = deps.coordination ?? SINGLE_REPLICA;
    this.observer = deps.observer ?? NOOP_WATCHER_OBSERVER;
    this.now = deps.now ?? Date.now;
  }

  get source(): string {
    return this.config.name;
  }

  sourceHealth(): SourceHealth {
    const h = this.health;
    return {
      reachable: h.reachable,
      ...(h.lastSuccessAt !== undefined && { lastSuccessAt: h.lastSuccessAt }),
      ...(h.error && { error: h.error }),
      conditions: { inventoryReady: h.inventoryReady, services: this.inventory?.size ?? 0 },
    };
  }

  private keyOf(ref: Pick<CloudMapServiceRef, 'namespaceName' | 'name'>): string {
    return serviceKey({ source: this.source, scope: ref.namespaceName, service: ref.name });
  }

  /** Starts the inventory, poll and status loops. */
  start(): void {
    if (this.started) return;
    this.started = true;
    this.loops = [this.inventoryLoop(), this.pollLoop(), ...(this.deps.statusHeartbeats ? [] : [this.statusLoop()])];
  }

  /** Membership moved: poll now rather than at the next tick, so taken-over services have no gap. */
  ownershipChanged(): void {
    for (const wake of this.wakers) wake();
  }

  /**
   * The queue lost what was sent (Redis came back empty): re-read and re-send every owned service
   * (the caller clears the change tracker) and a complete inventory snapshot, now.
   */
  resendAll(): void {
    this.deps.emitter.resendAll();
    this.states.clear();
    this.inventoryDue = 0;
    for (const wake of this.wakers) wake();
  }

  /**
   * Stops the loops. A read in flight (an inventory of many namespaces at the ListServices budget
   * can take minutes) is abandoned after `graceMs`: it only reads, and SIGTERM must not hang.
   */
  async stop(graceMs = 5000): Promise<void> {
    this.stopped = true;
    for (const wake of this.wakers) wake();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.allSettled(this.loops), new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)))]);
    clearTimeout(timer);
  }

  private async pause(ms: number): Promise<void> {
    if (this.stopped) return;
    let wake: () => void = () => undefined;
    let timer: NodeJS.Timeout | undefined;
    await new Promise<void>((resolve) => {
      wake = resolve;
      this.wakers.add(wake);
      timer = setTimeout(resolve, ms);
    });
    clearTimeout(timer);
    this.wakers.delete(wake);
  }

  private async inventoryLoop(): Promise<void> {
    while (!this.stopped) {
      const ok = await this.runInventory();
      // A failed inventory is tried again soon: the source is unreachable until one succeeds.
      const i = this.config.intervals;
      this.inventoryDue = this.now() + (ok ? i.inventorySeconds : Math.min(i.retrySeconds, i.inventorySeconds)) * 1000;
      while (!this.stopped && this.now() < this.inventoryDue) await this.pause(Math.min(1000, this.inventoryDue - this.now()));
    }
  }

  private async pollLoop(): Promise<void> {
    while (!this.stopped) {
      const start = this.now();
      if (this.inventory) await this.runPollCycle();
      const rest = this.config.intervals.revisionSeconds * 1000 - (this.now() - start);
      await this.pause(this.inventory ? Math.max(50, rest) : 200);
    }
  }

  private async statusLoop(): Promise<void> {
    while (!this.stopped) {
      await this.pause(this.config.intervals.statusSeconds * 1000);
      if (!this.stopped && (this.inventory || this.inventoryFailed)) await this.sendStatus();
    }
  }

  async sendStatus(): Promise<void> {
    const h = this.sourceHealth();
    try {
      await this.deps.emitter.status({ reachable: h.reachable, ...(h.error && !h.reachable ? { error: h.error } : {}), conditions: h.conditions });
    } catch (err) {
      this.deps.log?.('warn', 'could not send source status', { source: this.source, error: describeError(err) });
    }
  }

  private updateHealth(error?: unknown, notify = true): void {
    const wasReachable = this.health.reachable;
    const reachable = !this.inventoryFailed && !this.pollFailed && this.health.inventoryReady;
    this.health = { ...this.health, reachable, ...(error ? { error: describeError(error) } : {}) };
    if (notify && wasReachable !== reachable) void this.sendStatus();
  }

  private markSuccess(): void {
    const at = this.now();
    this.health.lastSuccessAt = at;
    this.observer.onSuccess(at);
  }

  /** One full inventory read; public for tests and for a manual resync. */
  async runInventory(): Promise<boolean> {
    const start = this.now();
    let refs: CloudMapServiceRef[];
    try {
      refs = await this.deps.reader.inventory(this.filter);
    } catch (err) {
      this.inventoryFailed = true;
      this.observer.onError('inventory', err);
      this.deps.log?.('warn', 'Cloud Map inventory failed; nothing removed, no snapshot', { source: this.source, error: describeError(err) });
      this.updateHealth(err, false);
      await this.sendStatus();
      return false;
    }
    const next = new Map(refs.map((r) => [this.keyOf(r), r]));
    const previous = this.inventory;
    this.inventory = next;
    this.inventoryFailed = false;
    this.health.inventoryReady = true;
    this.markSuccess();
    this.updateHealth(undefined, false);
    await this.sendStatus();
    if (previous) {
      for (const [key, ref] of previous) {
        if (next.has(key)) continue;
        const state = this.states.get(key);
        this.states.delete(key);
        if (!state || !this.coordination.owns(key)) {
          this.deps.emitter.forget(key);
          continue;
        }
        try {
          if (await this.deps.emitter.remove({ service: ref.name, scope: ref.namespaceName, lineage: ref.id }, state.seenRevision ?? 0)) this.observer.onChange('removed');
        } catch (err) {
          this.deps.log?.('warn', 'could not send a removal', { source: this.source, key, error: describeError(err) });
        }
      }
    }
    // Only after every page of every selected namespace was read: the one message that may delete.
    if (await this.coordination.leaseFor(`inventory:${this.source}`).catch(() => false)) {
      try {
        await this.deps.emitter.snapshot(
          refs.map((r) => ({ service: r.name, scope: r.namespaceName })),
          true,
          start,
        );
      } catch (err) {
        this.deps.log?.('warn', 'could not send the inventory snapshot', { source: this.source, error: describeError(err) });
      }
    }
    this.observer.onCycle('inventory', (this.now() - start) / 1000);
    return true;
  }

  /** One pass over the owned services; public for tests. */
  async runPollCycle(): Promise<void> {
    const inventory = this.inventory;
    if (!inventory) return;
    const start = this.now();
    const owned: string[] = [];
    for (const key of inventory.keys()) if (this.coordination.owns(key)) owned.push(key);
    const ownedSet = new Set(owned);
    // Keys that moved to another replica: forget them, so a later return re-reads and re-sends.
    for (const key of [...this.states.keys()]) {
      if (!ownedSet.has(key) || !inventory.has(key)) {
        this.states.delete(key);
        this.deps.emitter.forget(key);
      }
    }
    this.observer.onServices(inventory.size, owned.length);
    let ok = 0;
    let failed = 0;
    let lastError: unknown;
    let next = 0;
    const worker = async () => {
      while (!this.stopped) {
        const key = owned[next++];
        if (key === undefined) return;
        const ref = inventory.get(key) as CloudMapServiceRef;
        try {
          await this.pollService(key, ref);
          ok++;
        } catch (err) {
          const name = (err as { name?: string })?.name ?? '';
          if (err instanceof SinkError) {
            // The registry answered; the queue did not. Not a registry failure.
            ok++;
            this.deps.log?.('warn', 'could not send a record; it is re-read next cycle', { source: this.source, key, error: describeError(err.cause) });
          } else if (NOT_FOUND.has(name)) {
            // Deleted since the inventory: the next inventory says so; never a removal from here.
            this.inventoryDue = Math.min(this.inventoryDue, this.now() + 1000);
            ok++;
          } else {
            failed++;
            lastError = err;
            this.observer.onError('poll', err);
          }
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.config.concurrency, Math.max(1, owned.length)) }, worker));
    if (ok > 0) this.markSuccess();
    this.pollFailed = failed > 0 && ok === 0;
    if (failed > 0) this.deps.log?.('warn', 'Cloud Map reads failed for some services; they keep their last state', { source: this.source, failed, ok, error: describeError(lastError) });
    this.updateHealth(this.pollFailed ? lastError : undefined);
    this.observer.onCycle('poll', (this.now() - start) / 1000);
  }

  private async pollService(key: string, ref: CloudMapServiceRef): Promise<void> {
    let state = this.states.get(key);
    if (!state || state.ref.id !== ref.id) {
      state = { ref, nextHealthAt: 0 };
      this.states.set(key, state);
    }
    state.ref = ref;
    const now = this.now();
    const healthDue = now >= state.nextHealthAt;
    let dir: number | undefined;
    if (state.seenRevision !== undefined && !healthDue) {
      dir = await this.deps.reader.revision(ref);
      if (dir === state.seenRevision) {
        this.observer.onSkip('revision-unchanged');
        return;
      }
    }
    const read = await this.deps.reader.instances(ref, this.config.discoverMaxResults);
    // Cloud Map's revisions only grow, but if one ever steps back (moto's does on deregistration),
    // the emitter keeps a real change above what it sent, or the writer would drop it as stale.
    const registryRevision = Math.max(read.revision, dir ?? 0);
    const { record, drops } = buildServiceRecord(ref, read.instances, registryRevision, {
      source: this.source,
      region: this.config.region,
      protocolAttribute: this.config.protocolAttribute,
      observedAt: new Date(this.now()).toISOString(),
    });
    this.observer.onDrops(drops);
    const firstRead = state.seenRevision === undefined;
    state.seenRevision = dir ?? read.revision;
    // Jittered so a few hundred services do not all re-read health in the same second.
    state.nextHealthAt = this.now() + this.config.intervals.healthSeconds * 1000 * (0.9 + Math.random() * 0.2);
    let sent: number | undefined;
    try {
      sent = await this.deps.emitter.upsert(record, registryRevision);
    } catch (err) {
      // Not sent (the emitter forgot it): the next cycle reads and sends again.
      state.seenRevision = undefined;
      throw new SinkError(err);
    }
    if (sent === undefined) {
      this.observer.onSkip('content-unchanged');
      return;
    }
    this.observer.onChange(firstRead ? 'added' : dir !== undefined ? 'revision' : 'health');
  }
}
