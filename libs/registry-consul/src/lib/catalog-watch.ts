import { SourceEmitter } from '@registry-bridge/source-kit';
import { nextIndex } from './blocking-index';
import { ConsulLineage } from './consul-lineage';
import { ConsulSourceStatus, hiddenByAcl } from './consul-source-health';
import { ConsulOwnership, ConsulWatchContext } from './consul-watch.types';
import { ServiceFilter } from './service-filter';
import { ServiceTable } from './service-table';

type CatalogBody = Record<string, string[] | null> | null | undefined;

/** A catalog answer against the last listing. */
export interface CatalogDiff {
  /** The listing after the filters: name -> tags. */
  next: Map<string, string[]>;
  /** New services and services whose tags changed: to be read at once. */
  touched: string[];
  /** Listed before, not now. */
  gone: string[];
}

/** Applies the filters to `/v1/catalog/services` and compares it with the last listing. */
export function diffCatalog(previous: ReadonlyMap<string, readonly string[]>, body: CatalogBody, skip: (name: string, tags: string[]) => unknown): CatalogDiff {
  const next = new Map<string, string[]>();
  for (const [name, tags] of Object.entries(body ?? {})) {
    const t = (tags ?? []).filter((x): x is string => typeof x === 'string');
    if (!skip(name, t)) next.set(name, t);
  }
  const touched = [...next].filter(([name, tags]) => previous.get(name)?.join('\u0000') !== tags.join('\u0000')).map(([name]) => name);
  const gone = [...previous.keys()].filter((name) => !next.has(name));
  return { next, touched, gone };
}

/** What the catalog watch needs of the rest of the source's watch. */
export interface CatalogWatchParts {
  scope?: string;
  hasToken: boolean;
  filter: ServiceFilter;
  table: ServiceTable;
  emitter: SourceEmitter;
  ownership: ConsulOwnership;
  lineage: ConsulLineage;
  health: ConsulSourceStatus;
  /** A new or retagged service: read it at once. */
  touched(name: string): void;
  /** A service left the table: end its blocking query, forget its ACL state. */
  dropped(name: string): void;
  /** Consul was rebuilt: every service is read again, revisions restart. */
  lineageRestarted(): void;
  /** The listing changed: hand out the services again. */
  rebalance(): void;
  progress(): void;
}

/**
 * One blocking query on `/v1/catalog/services` (membership and tags of every service): the
 * listing, removals of services gone from an unfiltered answer, the source's reachability, and
 * the inventory snapshots of the lease holder.
 */
export class CatalogWatch {
  private catalog = new Map<string, string[]>();
  private index = 0;
  private filtered = false;
  private lastSnapshotAt = 0;
  private lastSnapshotSig = '';

  constructor(
    private readonly ctx: ConsulWatchContext,
    private readonly p: CatalogWatchParts,
  ) {}

  names(): IterableIterator<string> {
    return this.catalog.keys();
  }

  has(name: string): boolean {
    return this.catalog.has(name);
  }

  get size(): number {
    return this.catalog.size;
  }

  /** One read (blocking once read, non-blocking after a failure), applied when it changed or a snapshot is due. */
  async step(signal: AbortSignal, failures: number): Promise<void> {
    const { client, metrics, options } = this.ctx;
    // After a failure, a non-blocking read: on an unchanged index a blocking one would return
    // only when its wait ends, however soon Consul answers again (issue 15.2).
    const blocking = failures === 0 && this.index > 0;
    metrics.request('catalog', blocking ? 'blocking' : 'poll');
    const expr = this.p.filter.catalogExpression();
    const r = await client.get<Record<string, string[] | null>>('/v1/catalog/services', {
      index: blocking ? this.index : 0,
      waitMs: options.waitMs,
      signal,
      query: expr ? { filter: expr } : undefined,
      ...(failures > 0 && { timeoutMs: this.ctx.recoveryTimeout(failures) }),
    });
    const step = nextIndex(this.index, r.index);
    if (step.verdict === 'reset') {
      metrics.indexReset('catalog');
      const returned = r.index ?? 0;
      if (this.index > 1 && returned < this.index && (await this.p.lineage.wentBackwards(this.index, returned, signal))) this.p.lineageRestarted();
    }
    this.index = step.next;
    this.filtered = hiddenByAcl(r, this.p.hasToken);
    this.p.health.catalogRead(this.filtered, Object.keys(r.body ?? {}).length);
    if (step.verdict !== 'unchanged' || this.snapshotDue()) {
      if (step.verdict !== 'unchanged') metrics.changeSeen('catalog');
      await this.apply(r.body, r.index ?? this.index);
    }
  }

  private async apply(body: CatalogBody, index: number): Promise<void> {
    const diff = diffCatalog(this.catalog, body, (name, tags) => this.p.filter.skipReason(name, tags));
    this.catalog = diff.next;
    diff.touched.forEach((name) => this.p.touched(name));
    // Gone from a successful, unfiltered read: a removal. A filtered read proves nothing.
    if (!this.filtered) for (const name of diff.gone) await this.removed(name, index);
    this.p.rebalance();
    await this.snapshot();
    this.p.progress();
  }

  private async removed(name: string, index: number): Promise<void> {
    const st = this.p.table.delete(name);
    if (!st) return;
    this.p.dropped(name);
    if (st.sent && !st.excluded && this.p.ownership.owns(st.key)) {
      if (await this.p.emitter.remove({ service: name, scope: this.p.scope, lineage: this.p.lineage.current }, index)) this.ctx.metrics.emitted('remove');
    } else {
      this.p.emitter.forget(st.key);
    }
  }

  private snapshotDue(): boolean {
    return this.ctx.now() - this.lastSnapshotAt >= this.ctx.options.snapshotIntervalMs;
  }

  /** The next snapshot is sent whatever it says (Redis lost the last one). */
  resetSnapshot(): void {
    this.lastSnapshotSig = '';
    this.lastSnapshotAt = 0;
  }

  /** Sends the inventory when this replica holds the snapshot lease and it changed or is due. */
  async snapshot(): Promise<void> {
    if (!(await this.p.ownership.snapshotLease())) {
      // Not the holder: when the lease comes our way, send at once.
      this.resetSnapshot();
      return;
    }
    const services = [...this.catalog.keys()]
      .filter((n) => !this.p.table.get(n)?.excluded)
      .sort()
      .map((service) => (this.p.scope ? { service, scope: this.p.scope } : { service }));
    const complete = !this.filtered;
    const sig = `${complete}|${services.map((s) => s.service).join('\u0000')}`;
    if (sig === this.lastSnapshotSig && !this.snapshotDue()) return;
    await this.p.emitter.snapshot(services, complete);
    this.ctx.metrics.emitted('snapshot');
    this.lastSnapshotSig = sig;
    this.lastSnapshotAt = this.ctx.now();
  }
}
