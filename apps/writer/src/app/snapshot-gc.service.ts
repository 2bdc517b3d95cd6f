import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { DeletionPolicy } from './deletion.policy';
import { ReconcileQueue } from './reconcile-queue.service';
import { StateStore } from './state-store.service';
import { StatusBoard } from './status-board.service';
import { LOGGER } from './writer.tokens';

/** A complete snapshot arrived: keys it no longer lists become tombstones, unless that is too many at once. */
@Injectable()
export class SnapshotGc {
  constructor(
    private readonly store: StateStore,
    private readonly policy: DeletionPolicy,
    private readonly board: StatusBoard,
    private readonly queue: ReconcileQueue,
    @Inject(LOGGER) private readonly log: Logger,
  ) {}

  async collect(source: string, now = Date.now()): Promise<unknown> {
    const snapshot = await this.store.completeSnapshot(source);
    if (!snapshot) return { gc: 'no-snapshot' };
    const keys = await this.store.sourceKeys(source);
    const missing = keys.filter((k) => !snapshot.keys.has(k));
    const candidates: string[] = [];
    for (const k of missing) {
      const st = await this.store.get(k);
      if (st && !st.deleted && st.observedAt < snapshot.observedAt) candidates.push(k);
    }
    if (!candidates.length) return { gc: 0 };
    const hold = this.policy.snapshotHold(source, candidates.length, Math.max(keys.length, 1));
    if (hold) {
      this.board.tripGuard(source, hold, now);
      this.log.warn({ source, candidates: candidates.length, budget: this.policy.budget(Math.max(keys.length, 1)) }, hold.detail);
      return { gc: 'guard-tripped' };
    }
    for (const k of candidates) if (await this.store.tombstone(k, source, snapshot.observedAt)) await this.queue.enqueueKey(k);
    return { gc: candidates.length };
  }
}
