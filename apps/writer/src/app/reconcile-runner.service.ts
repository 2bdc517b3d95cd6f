import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { KeySerializer } from './key-serializer';
import { LeadershipService } from './leadership.service';
import { ReconcileQueue } from './reconcile-queue.service';
import { ReconcileOutcome, Reconciler } from './reconciler.service';
import { LOGGER } from './writer.tokens';
import { WriterMetrics } from './writer-metrics.service';

/**
 * Runs the Reconciler for a key, one run per key at a time in this process whichever path it came
 * by (the ingest worker or the reconcile queue), and hands the key back to the queue when it must
 * come back later or failed.
 */
@Injectable()
export class ReconcileRunner {
  private readonly reconciling = new KeySerializer<ReconcileOutcome>();

  constructor(
    private readonly reconciler: Reconciler,
    private readonly queue: ReconcileQueue,
    private readonly leadership: LeadershipService,
    private readonly metrics: WriterMetrics,
    @Inject(LOGGER) private readonly log: Logger,
  ) {}

  /**
   * From ingest: reconcile at once unless the key is busy here (then the queued job, which reads
   * the newest state when it runs, covers this record). Any failure hands the key to the queue,
   * whose retries and backoff are the one retry policy.
   */
  async reconcileNow(key: string): Promise<void> {
    if (!this.leadership.isLeader() || this.reconciling.busy(key)) return this.queue.enqueueKey(key);
    this.metrics.reconciles.inc({ path: 'ingest' });
    try {
      await this.reconcileKey(key);
    } catch (err) {
      this.log.debug({ key, err: (err as Error).message }, 'reconcile from ingest failed; queued for retry');
      await this.queue.enqueueKey(key);
    }
  }

  /** Reconciles a key after any reconcile of it already running in this process; a held key comes back later. */
  async reconcileKey(key: string): Promise<ReconcileOutcome> {
    const outcome = await this.reconciling.run(key, () => this.reconciler.reconcile(key));
    // A held deletion, or a refused key whose object waits for its deletion, comes back later.
    if ((outcome.action === 'held' || outcome.action === 'refused') && outcome.retryInMs !== undefined) await this.queue.enqueueKey(key, Math.max(1000, outcome.retryInMs));
    return outcome;
  }
}
