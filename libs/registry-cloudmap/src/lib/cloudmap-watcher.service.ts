import { serviceKey } from '@registry-bridge/contract';
import type { SourceHealth } from '@registry-bridge/source-kit';
import type { CloudMapSourceConfig } from './cloudmap-config.schema';
import { describeError, isNotFound, SinkError } from './cloudmap-errors.util';
import type { CloudMapServiceRef } from './cloudmap-normalize.util';
import { mapPool } from './cloudmap-reader.service';
import { CloudMapServicePoller } from './cloudmap-service.poller';
import { CloudMapSourceHealth } from './cloudmap-source.health';
import { NOOP_WATCHER_OBSERVER, SINGLE_REPLICA, WatcherCoordination, WatcherDeps, WatcherObserver } from './cloudmap-watcher.ports';
import { NameFilter } from './name-filter.util';


/**
 * Watches one Cloud Map source. Inventory (ListNamespaces + ListServices, fully paginated) at a
 * slow cadence, then per owned service: DiscoverInstancesRevision, and DiscoverInstances when it
 * moved or a health re-read is due. A failed read never produces a removal or a snapshot.
 */
export class CloudMapWatcher {
  private inventory?: Map<string, CloudMapServiceRef>;
  private readonly health = new CloudMapSourceHealth();
  private readonly poller: CloudMapServicePoller;
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
    this.poller = new CloudMapServicePoller(config, deps.reader, deps.emitter, this.observer, this.now);
  }

  get source(): string {
    return this.config.name;
  }

  sourceHealth(): SourceHealth {
    return this.health.view(this.inventory?.size ?? 0);
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
    this.poller.clear();
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
      if (!this.stopped && (this.inventory || this.health.inventoryFailed)) await this.sendStatus();
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

  private markSuccess(): void {
    const at = this.now();
    this.health.success(at);
    this.observer.onSuccess(at);
  }

  /** One full inventory read; public for tests and for a manual resync. */
  async runInventory(): Promise<boolean> {
    const start = this.now();
    let refs: CloudMapServiceRef[];
    try {
      refs = await this.deps.reader.inventory(this.filter);
    } catch (err) {
      this.observer.onError('inventory', err);
      this.deps.log?.('warn', 'Cloud Map inventory failed; nothing removed, no snapshot', { source: this.source, error: describeError(err) });
      this.health.inventoryFailedWith(err);
      await this.sendStatus();
      return false;
    }
    const next = new Map(refs.map((r) => [this.keyOf(r), r]));
    const previous = this.inventory;
    this.inventory = next;
    this.markSuccess();
    this.health.inventoryListed();
    await this.sendStatus();
    if (previous) await this.removeGone(previous, next);
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

  /** Services of the last inventory missing from this one: removed by the replica that polled them. */
  private async removeGone(previous: Map<string, CloudMapServiceRef>, next: Map<string, CloudMapServiceRef>): Promise<void> {
    for (const [key, ref] of previous) {
      if (next.has(key)) continue;
      const state = this.poller.take(key);
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

  /** One pass over the owned services; public for tests. */
  async runPollCycle(): Promise<void> {
    const inventory = this.inventory;
    if (!inventory) return;
    const start = this.now();
    const owned: string[] = [];
    for (const key of inventory.keys()) if (this.coordination.owns(key)) owned.push(key);
    const ownedSet = new Set(owned);
    // Keys that moved to another replica: forget them, so a later return re-reads and re-sends.
    this.poller.keepOnly((key) => ownedSet.has(key) && inventory.has(key));
    this.observer.onServices(inventory.size, owned.length);
    let ok = 0;
    let failed = 0;
    let lastError: unknown;
    await mapPool(owned, this.config.concurrency, async (key) => {
      if (this.stopped) return;
      try {
        await this.poller.poll(key, inventory.get(key) as CloudMapServiceRef);
        ok++;
      } catch (err) {
        if (err instanceof SinkError) {
          // The registry answered; the queue did not. Not a registry failure.
          ok++;
          this.deps.log?.('warn', 'could not send a record; it is re-read next cycle', { source: this.source, key, error: describeError(err.cause) });
        } else if (isNotFound(err)) {
          // Deleted since the inventory: the next inventory says so; never a removal from here.
          this.inventoryDue = Math.min(this.inventoryDue, this.now() + 1000);
          ok++;
        } else {
          failed++;
          lastError = err;
          this.observer.onError('poll', err);
        }
      }
    });
    if (ok > 0) this.markSuccess();
    const failedAll = failed > 0 && ok === 0;
    if (failed > 0) this.deps.log?.('warn', 'Cloud Map reads failed for some services; they keep their last state', { source: this.source, failed, ok, error: describeError(lastError) });
    if (this.health.pollCycled(failedAll, lastError)) void this.sendStatus();
    this.observer.onCycle('poll', (this.now() - start) / 1000);
  }
}
