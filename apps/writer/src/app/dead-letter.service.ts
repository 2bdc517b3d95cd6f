import { Inject, Injectable } from '@nestjs/common';
import { QUEUES } from '@registry-bridge/contract';
import type { Job } from 'bullmq';
import type { Logger } from 'pino';
import { WriterConnections } from './writer-connections.service';
import { LOGGER } from './writer.tokens';
import { WriterMetrics } from './writer-metrics.service';

/** Jobs that can never succeed go to `rb-dead-letter` with the reason, so they never block a queue. */
@Injectable()
export class DeadLetterService {
  constructor(
    private readonly connections: WriterConnections,
    private readonly metrics: WriterMetrics,
    @Inject(LOGGER) private readonly log: Logger,
  ) {}

  /** Sends the job to the dead-letter queue with the reason; its own job then completes. */
  async send(job: Job, reason: string, kind: string, raw?: string): Promise<string> {
    this.metrics.deadLetters.inc({ reason: kind });
    if (job.queueName === QUEUES.ingest) this.metrics.ingested.inc({ type: raw === undefined ? String((job.data as { type?: unknown })?.type ?? 'unknown').slice(0, 20) : 'unknown', outcome: 'dead-letter' });
    this.log.warn({ queue: job.queueName, jobId: job.id, reason }, 'message dead-lettered');
    const data = raw === undefined ? { data: job.data } : { raw };
    await this.connections.queue('deadLetter').add('dead-letter', { reason, queue: job.queueName, jobId: job.id, jobName: job.name, at: new Date().toISOString(), ...data }, { removeOnComplete: false, removeOnFail: false });
    return 'dead-letter';
  }
}
