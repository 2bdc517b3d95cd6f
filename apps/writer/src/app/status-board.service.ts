import { Injectable } from '@nestjs/common';
import type { DeletionHold } from './deletion.policy';
import { WriterMetrics } from './writer-metrics.service';

/** A refused key's object, if it had one: emptied at once, deleted under the deletion rules. */
export interface RefusedObject {
  object: string;
  state: 'emptied' | 'deleted';
  /** Why the deletion of an emptied object still waits. */
  held?: string;
}

export interface Refusal {
  reason: string;
  detail: string;
  at: string;
  object?: RefusedObject;
}

export interface GuardTrip {
  guard: string;
  detail: string;
  at: string;
}

/** What this writer refused and which safety guard last tripped per source, as /status shows it. */
@Injectable()
export class StatusBoard {
  private readonly refusals = new Map<string, Refusal>();
  private readonly trips = new Map<string, GuardTrip>();

  constructor(private readonly metrics: WriterMetrics) {}

  refusal(key: string): Refusal | undefined {
    return this.refusals.get(key);
  }

  setRefusal(key: string, refusal: Refusal): void {
    this.refusals.set(key, refusal);
  }

  /** What happened to a refused key's object, shown with its refusal. */
  setRefusedObject(key: string, object: RefusedObject): void {
    const refusal = this.refusals.get(key);
    if (refusal) this.refusals.set(key, { ...refusal, object });
  }

  clearRefusal(key: string): void {
    this.refusals.delete(key);
  }

  allRefusals(): Record<string, Refusal> {
    return Object.fromEntries(this.refusals);
  }

  /** A guard held a deletion: counted and shown until the next trip of the source. */
  tripGuard(source: string, hold: DeletionHold, now: number): void {
    this.metrics.guardTrips.inc({ source, guard: hold.guard });
    this.trips.set(source, { guard: hold.guard, detail: hold.detail, at: new Date(now).toISOString() });
  }

  lastTrip(source: string): GuardTrip | undefined {
    return this.trips.get(source);
  }
}
