import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG } from '@registry-bridge/app-config';
import { QUEUES } from '@registry-bridge/contract';
import { WriterConfig } from '@registry-bridge/config/writer';
import { JobType, Queue } from 'bullmq';
import type { Cluster, Redis } from 'ioredis';
import { REDIS } from './writer.tokens';

export type QueueName = 'ingest' | 'reconcile' | 'deadLetter';

/** The writer's three BullMQ queues on its Redis connection; closed last, after the workers drained. */
@Injectable()
export class WriterConnections implements OnApplicationShutdown {
  private readonly queues: Readonly<Record<QueueName, Queue>>;

  constructor(
    @Inject(REDIS) private readonly redis: Redis | Cluster,
    @Inject(APP_CONFIG) cfg: WriterConfig,
  ) {
    const connection = redis;
    const prefix = cfg.redis.prefix;
    this.queues = {
      ingest: new Queue(QUEUES.ingest, { connection, prefix }),
      reconcile: new Queue(QUEUES.reconcile, { connection, prefix }),
      deadLetter: new Queue(QUEUES.deadLetter, { connection, prefix }),
    };
  }

  queue(name: QueueName): Queue {
    return this.queues[name];
  }

  queueList(): Queue[] {
    return Object.values(this.queues);
  }

  /** Jobs per queue and state. */
  async counts(...states: JobType[]): Promise<Record<QueueName, Record<string, number>>> {
    const out = {} as Record<QueueName, Record<string, number>>;
    for (const [name, q] of Object.entries(this.queues) as Array<[QueueName, Queue]>) out[name] = await q.getJobCounts(...states);
    return out;
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.all(this.queueList().map((q) => q.close()));
    this.redis.disconnect();
  }
}
