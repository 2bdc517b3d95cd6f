import { LIMITS, RecordProducer, ServiceRecordInput, ServiceRef, serviceKey, SourceRef } from '@registry-bridge/contract';
import { ChangeTracker, contentHash, RecordContent, recordKey } from './change-tracker';

type Arg<K extends 'upsert' | 'remove' | 'snapshot' | 'sourceStatus'> = Parameters<RecordProducer[K]>[0];

/** The one output port of every registry: the contract's RecordProducer (the ingest queue) fits. */
export interface RecordPort {
  upsert(record: Arg<'upsert'>): Promise<unknown>;
  remove(msg: Arg<'remove'>): Promise<unknown>;
  snapshot(msg: Arg<'snapshot'>): Promise<unknown>;
  sourceStatus(msg: Arg<'sourceStatus'>): Promise<unknown>;
}

export type SourceConditions = Record<string, string | number | boolean>;

/** How a source is doing, the same shape for every registry; what is registry-specific goes in `conditions`. */
export interface SourceHealth {
  reachable: boolean;
  /** Epoch ms of the last successful read. */
  lastSuccessAt?: number;
  error?: string;
  conditions: SourceConditions;
}

export interface SourceStatusUpdate {
  reachable: boolean;
  error?: string;
  conditions?: SourceConditions;
}

/**
 * Status heartbeats toward the writer: sends a status when it changed or a heartbeat is due;
 * collector-core's SourceStatusReporter fits.
 */
export interface StatusPort {
  reportChange(source: string, update: SourceStatusUpdate): Promise<void>;
  /** Drops what was last sent, so the next status is sent whatever it says. */
  forget?(source: string): void;
  /** Re-sends the last status if a heartbeat is due (for a source polled slower than the heartbeat). */
  resendIfDue?(source: string): Promise<void>;
}

/**
 * Revision of a change from the registry's own counter and the last one sent for the key. The
 * default keeps the registry's counter while it does not go back (a change at the same counter
 * keeps it: Cloud Map's health changes do not move it; the writer breaks the tie by observedAt),
 * and steps past the last one sent when it does, so a newer view never ranks below an older one.
 */
export type RevisionRule = (registryRevision: number, lastSent: number | undefined, now: number) => number;

export const registryRevision: RevisionRule = (registry, last) => (last !== undefined && registry < last ? last + 1 : registry);

const aboveBoth = (registry: number, last: number): number => Math.max(registry, last + 1);

export interface SourceEmitterOptions {
  port: RecordPort;
  /** Without it, every status goes straight to `port.sourceStatus` (one-shot reads, tests). */
  status?: StatusPort;
  revision?: RevisionRule;
  /** Revision of a removal from the registry's counter (0 when it has none) and the last one sent; default: above both. */
  removalRevision?: (registryRevision: number, lastSent: number, now: number) => number;
  /**
   * A source that had services and reads empty is believed only after this long (a restarted
   * Eureka server answers empty until its clients re-register). 0 (default) believes it at once.
   */
  emptyHoldMs?: number;
  now?: () => number;
}

interface Sent {
  revision: number;
}

/**
 * What every registry does the same way once it has read something: sends a record only when its
 * content changed (one content hash), with a revision that never goes back per service key;
 * removals outranking the last upsert; snapshots with growing epochs; a suspiciously empty read
 * held back; the source's health and status heartbeats; and, after Redis lost its data, every
 * record again. The registry's adapter keeps only how it reads and watches.
 */
export class SourceEmitter {
  readonly source: SourceRef;
  private readonly changes = new ChangeTracker();
  private readonly sent = new Map<string, Sent>();
  private readonly revisionOf: RevisionRule;
  private readonly now: () => number;
  private lastEpoch = 0;
  private emptySince?: number;
  private holdingEmpty = false;
  private current: SourceHealth = { reachable: false, conditions: {} };

  constructor(
    source: SourceRef,
    private readonly options: SourceEmitterOptions,
  ) {
    this.source = { ...source };
    this.revisionOf = options.revision ?? registryRevision;
    this.now = options.now ?? Date.now;
  }

  keyOf(service: string, scope?: string): string {
    return serviceKey({ source: this.source.name, scope, service });
  }

  /** Service keys sent and not removed since. */
  sentKeys(): string[] {
    return [...this.sent.keys()];
  }

  lastRevision(key: string): number | undefined {
    return this.sent.get(key)?.revision;
  }

  /**
   * Sends the record when its content changed since the last one sent for its key; returns the
   * revision sent, or undefined when unchanged. A failed send is forgotten, so the next read sends
   * again. `hash`: the record's contentHash when the adapter keeps it already (a large registry
   * compares every service on every poll).
   */
  async upsert(record: RecordContent & { observedAt?: string }, registryRevision: number, hash?: string): Promise<number | undefined> {
    const key = recordKey(record);
    if (!this.changes.shouldEmitHash(key, hash ?? contentHash(record))) return undefined;
    const revision = this.revisionOf(registryRevision, this.sent.get(key)?.revision, this.now());
    try {
      await this.options.port.upsert({ ...record, revision, observedAt: record.observedAt ?? this.observedAt() } as ServiceRecordInput);
    } catch (err) {
      this.changes.forget(key);
      throw err;
    }
    this.sent.set(key, { revision });
    return revision;
  }

  /**
   * Sends a removal for a service sent before (none for one never sent); by default its revision
   * outranks the last upsert and `registryRevision`. Returns whether one was sent.
   */
  async remove(ref: { service: string; scope?: string; lineage?: string }, registryRevision = 0): Promise<boolean> {
    const key = this.keyOf(ref.service, ref.scope);
    const last = this.sent.get(key);
    this.changes.forget(key);
    if (!last) return false;
    await this.options.port.remove({
      source: this.source,
      service: ref.service,
      ...(ref.scope !== undefined && { scope: ref.scope }),
      revision: (this.options.removalRevision ?? aboveBoth)(registryRevision, last.revision, this.now()),
      ...(ref.lineage !== undefined && { lineage: ref.lineage }),
      observedAt: this.observedAt(),
    });
    this.sent.delete(key);
    return true;
  }

  /** Forgets a key without a removal (another replica owns it now): a later return sends it again. */
  forget(key: string): void {
    this.changes.forget(key);
    this.sent.delete(key);
  }

  /** The source's inventory; only a complete one lets the writer delete. Epochs only grow. */
  async snapshot(services: readonly ServiceRef[], complete: boolean, epochHint?: number): Promise<number> {
    const epoch = Math.max(this.lastEpoch + 1, epochHint ?? this.now());
    await this.options.port.snapshot({ source: this.source, epoch, complete, services: [...services], observedAt: this.observedAt() });
    this.lastEpoch = epoch;
    return epoch;
  }

  /**
   * A read that lists `listed` services: true while an empty read after a non-empty one is held
   * back (no removals, no snapshot) for `emptyHoldMs`.
   */
  holdEmpty(listed: number): boolean {
    const hold = this.options.emptyHoldMs ?? 0;
    if (listed > 0 || this.sent.size === 0 || hold <= 0) {
      if (listed > 0) this.emptySince = undefined;
      this.holdingEmpty = false;
      return false;
    }
    const now = this.now();
    this.emptySince ??= now;
    this.holdingEmpty = now - this.emptySince < hold;
    return this.holdingEmpty;
  }

  get holdsEmpty(): boolean {
    return this.holdingEmpty;
  }

  health(): SourceHealth {
    return { ...this.current, conditions: { ...this.current.conditions } };
  }

  /** Records the source's state and reports it (the status port sends changes at once, the same state once per heartbeat). */
  async status(update: SourceStatusUpdate): Promise<void> {
    const error = update.error?.slice(0, LIMITS.error);
    this.current = {
      reachable: update.reachable,
      ...(update.reachable ? { lastSuccessAt: this.now() } : this.current.lastSuccessAt !== undefined ? { lastSuccessAt: this.current.lastSuccessAt } : {}),
      ...(error && { error }),
      conditions: { ...(update.conditions ?? {}) },
    };
    const conditions = { ...this.current.conditions, ...(this.holdingEmpty && { emptyRegistryHeld: true }) };
    if (this.options.status) {
      await this.options.status.reportChange(this.source.name, { reachable: update.reachable, ...(error && { error }), conditions });
      return;
    }
    await this.options.port.sourceStatus({
      source: this.source,
      reachable: update.reachable,
      ...(this.current.lastSuccessAt !== undefined && { lastSuccessAt: new Date(this.current.lastSuccessAt).toISOString() }),
      ...(error && { error }),
      conditions,
      observedAt: this.observedAt(),
    });
  }

  /**
   * Redis lost its data: nothing sent is known to be delivered any more. The next read sends
   * every record again (revisions keep growing); the adapter then reads everything again and
   * sends a complete snapshot. The status port re-sends the status with its next heartbeat.
   */
  resendAll(): void {
    this.changes.clear();
  }

  /** Forgets everything (a replica that stood down): the next read starts from nothing. */
  reset(): void {
    this.changes.clear();
    this.sent.clear();
    this.emptySince = undefined;
    this.holdingEmpty = false;
    this.options.status?.forget?.(this.source.name);
  }

  private observedAt(): string {
    return new Date(this.now()).toISOString();
  }
}
