import type { WriterConfig } from '@registry-bridge/config/writer';
import type { Job } from 'bullmq';
import type { Cluster, Redis } from 'ioredis';
import type { Logger } from 'pino';
import { TolerantWorker } from './tolerant.worker';

/**
 * A consumer of one of the writer's queues, running only while the writer leads: a TolerantWorker
 * with the writer's retry backoff and locks, logging its failures as JSON. Jobs a killed leader
 * held stay locked until their lock expires and the stalled check moves them back; BullMQ's 30 s
 * defaults would hold those keys (and their deduplicated follow-ups) for up to a minute after a
 * takeover. Locks about as long as the Lease keep that short.
 */
export abstract class QueueConsumer {
  private worker?: TolerantWorker;

  protected constructor(
    private readonly queueName: string,
    private readonly concurrency: number,
    private readonly cfg: Pick<WriterConfig, 'redis' | 'leaderElection'>,
    protected readonly log: Logger,
  ) {}

  abstract process(job: Job): Promise<unknown>;

  start(connection: Redis | Cluster): void {
    const leaseMs = this.cfg.leaderElection.leaseDurationSeconds * 1000;
    const worker = new TolerantWorker(this.queueName, (job) => this.process(job), {
      connection,
      prefix: this.cfg.redis.prefix,
      concurrency: this.concurrency,
      settings: { backoffStrategy: (attempts: number) => Math.min(30_000, 250 * 2 ** attempts) },
      lockDuration: Math.max(5000, leaseMs),
      stalledInterval: Math.max(2000, Math.floor(leaseMs / 2)),
      maxStalledCount: 5,
    });
    worker.on('failed', (job, err) => this.log.warn({ queue: worker.name, jobId: job?.id, job: job?.name, key: (job?.data as { key?: string } | undefined)?.key, err: err.message }, 'job failed'));
    // Without a listener BullMQ prints the raw stack to stderr; our logs are JSON.
    worker.on('error', (err) => this.log.error({ queue: worker.name, err: err.message }, 'queue worker error'));
    this.worker = worker;
  }

  /** Drain: active jobs finish (writes are guarded by the lease, so a lost lease stops them). */
  async stop(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    await worker?.close();
  }
}
