import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG } from '@registry-bridge/app-config';
import { QUEUES } from '@registry-bridge/contract';
import { WriterConfig } from '@registry-bridge/config/writer';
import type { Job } from 'bullmq';
import type { Logger } from 'pino';
import { DeadLetterService } from './dead-letter.service';
import { LeadershipService } from './leadership.service';
import { ReconcileQueue } from './reconcile-queue.service';
import { ReconcileRunner } from './reconcile-runner.service';
import { NotLeaderError } from './object-writer.service';
import { SnapshotGc } from './snapshot-gc.service';
import { QueueConsumer } from './queue.consumer';
import { unreadableReason } from './tolerant.worker';
import { LOGGER } from './writer.tokens';
import { WriterMetrics } from './writer-metrics.service';

/**
 * The reconcile queue's consumer: what arrives while its key is busy, failures, held keys, drift
 * repairs, resyncs and source garbage collection, with BullMQ's retries and backoff.
 */
@Injectable()
export class ReconcileWorker extends QueueConsumer {
  constructor(
    @Inject(APP_CONFIG) cfg: WriterConfig,
    private readonly leadership: LeadershipService,
    private readonly deadLetter: DeadLetterService,
    private readonly runner: ReconcileRunner,
    private readonly queue: ReconcileQueue,
    private readonly gc: SnapshotGc,
    private readonly metrics: WriterMetrics,
    @Inject(LOGGER) log: Logger,
  ) {
    super(QUEUES.reconcile, cfg.reconcile.concurrency, cfg, log);
  }

  async process(job: Job): Promise<unknown> {
    if (!this.leadership.isLeader()) throw new NotLeaderError();
    const unreadable = unreadableReason(job);
    if (unreadable) return this.deadLetter.send(job, unreadable.reason, 'unreadable', unreadable.raw);
    if (job.name === 'requeue') return this.queue.enqueueKey(job.data.key as string);
    if (job.name === 'source-gc') return this.gc.collect(job.data.source as string);
    this.metrics.reconciles.inc({ path: 'queue' });
    return this.runner.reconcileKey(job.data.key as string);
  }
}
