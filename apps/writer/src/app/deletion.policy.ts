import { deletionBudget } from '@registry-bridge/translation';
import { type WriterConfig } from '@registry-bridge/config/writer';
import type { SnapshotState, SourceState } from './state-store.service';

/** The limits of DESIGN section 4, as configured (`deletion.*`). */
export type DeletionLimits = WriterConfig['deletion'];

/** What the deletion rules know about one candidate deletion; gathered first, judged purely. */
export interface DeletionFacts {
  key: string;
  source: string;
  now: number;
  status?: SourceState;
  snapshot?: SnapshotState;
  /**
   * 'removed': the registry no longer has the service (a later complete snapshot that still lists
   * it holds the deletion). 'refused': the registry still has it but it may no longer be written,
   * so the snapshot listing it is expected.
   */
  cause: 'removed' | 'refused';
  /** For a refused key: the refusal's reason and how many instances its record still has. */
  refusal?: { reason: string; instances: number };
  /** observedAt of the key's state (a snapshot newer than that still listing it holds a removal). */
  stateObservedAt: number;
  /** Since when the key has been removed or refused (the grace period counts from here). */
  since: number;
  /** Services of the source (the larger of the snapshot and the known keys) for the budget. */
  total: number;
  deletionsInWindow: number;
}

export type DeletionGuard = 'kept-empty' | 'source-unreachable' | 'no-complete-snapshot' | 'in-snapshot' | 'grace-period' | 'deletion-budget' | 'snapshot-budget';

export interface DeletionHold {
  guard: DeletionGuard;
  detail: string;
  /** When to look again; none when only a new record can change the answer. */
  retryInMs?: number;
}

/** Holds that are the normal path (waiting), not a guard trip worth a warning and a metric. */
const ROUTINE: ReadonlySet<DeletionGuard> = new Set(['kept-empty', 'grace-period', 'in-snapshot']);
const RECHECK_MS = 10_000;

/**
 * DESIGN section 4 written once, as a pure rule: no deletion for an unreachable or silent source,
 * one without a complete snapshot, one the snapshot still lists, before the grace period, or beyond
 * the deletion budget; and a refused service with no instance left is kept, empty. Every place that
 * deletes, tombstones or reports reachability asks this class.
 */
export class DeletionPolicy {
  constructor(readonly limits: DeletionLimits) {}

  get windowMs(): number {
    return this.limits.windowSeconds * 1000;
  }

  /** The source said it is reachable and was heard from within `sourceSilenceSeconds`. */
  reachable(status: SourceState | undefined, now: number): boolean {
    return !!status && status.reachable && now - status.heardAt < this.limits.sourceSilenceSeconds * 1000;
  }

  /** Deletions allowed per window: `maxDeletes` or `maxDeletePercent` of the source's services, whichever is larger. */
  budget(total: number): number {
    return deletionBudget(this.limits, total);
  }

  /** Why a deletion waits, or undefined when it may go ahead. */
  hold(f: DeletionFacts): DeletionHold | undefined {
    // A service that has no instance left keeps its ServiceEntry, empty (DESIGN: VirtualServices and
    // DestinationRules may point at it); only its removal from the registry deletes it.
    if (f.cause === 'refused' && f.refusal && f.refusal.instances === 0 && f.refusal.reason === 'no-ports') {
      return { guard: 'kept-empty', detail: 'no instances: kept empty until the service is removed' };
    }
    if (!this.reachable(f.status, f.now)) return { guard: 'source-unreachable', detail: `source ${f.source} is unreachable or silent`, retryInMs: RECHECK_MS };
    if (!f.snapshot) return { guard: 'no-complete-snapshot', detail: `source ${f.source} has not sent a complete snapshot`, retryInMs: RECHECK_MS };
    if (f.cause === 'removed' && f.snapshot.keys.has(f.key) && f.snapshot.observedAt >= f.stateObservedAt) {
      return { guard: 'in-snapshot', detail: `the last complete snapshot of ${f.source} still lists ${f.key}`, retryInMs: RECHECK_MS };
    }
    const graceMs = this.limits.gracePeriodSeconds * 1000;
    if (f.now - f.since < graceMs) return { guard: 'grace-period', detail: 'waiting for the grace period', retryInMs: f.since + graceMs - f.now };
    const budget = this.budget(f.total);
    if (f.deletionsInWindow >= budget) return this.budgetHold(f.source, budget);
    return undefined;
  }

  /** The hold of a used-up deletion budget (also when the atomic take right before a delete finds it used up). */
  budgetHold(source: string, budget: number): DeletionHold {
    const { windowSeconds } = this.limits;
    return { guard: 'deletion-budget', detail: `deletion budget of ${budget} per ${windowSeconds}s for ${source} is used up`, retryInMs: Math.min(windowSeconds * 1000, 30_000) };
  }

  /** A complete snapshot that would remove more services at once than the budget removes none of them. */
  snapshotHold(source: string, removals: number, total: number): DeletionHold | undefined {
    const budget = this.budget(total);
    if (removals <= budget) return undefined;
    return { guard: 'snapshot-budget', detail: `snapshot of ${source} would remove ${removals} of ${total} services, over the budget of ${budget}; nothing removed` };
  }

  /** A hold that is the normal path (waiting) rather than a guard trip to warn about. */
  routine(hold: DeletionHold): boolean {
    return ROUTINE.has(hold.guard);
  }
}
