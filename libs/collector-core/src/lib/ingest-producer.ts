import { IngestQueueLike, Message, RecordProducer, ServiceRecordInput } from '@registry-bridge/contract';
import type { JobsOptions } from 'bullmq';
import { CollectorMetrics } from './collector-metrics';

/** A BullMQ `Queue` as far as the producer is concerned (add + close). */
export interface ClosableIngestQueue extends IngestQueueLike {
  close(): Promise<void>;
}

type Params<K extends keyof RecordProducer> = RecordProducer[K] extends (arg: infer A) => unknown ? A : never;

/**
 * The contract's producer over the ingest queue, counting what it sends and what fails.
 * A failed send rejects (after counting): the caller decides whether to retry or forget.
 */
export class IngestProducer extends RecordProducer {
  constructor(
    private readonly ingestQueue: ClosableIngestQueue,
    private readonly metrics?: CollectorMetrics,
    jobOptions?: JobsOptions,
  ) {
    super(ingestQueue, jobOptions);
  }

  override upsert(record: ServiceRecordInput): Promise<Message> {
    return this.counted(record.source.name, 'upsert', () => super.upsert(record));
  }

  override remove(msg: Params<'remove'>): Promise<Message> {
    return this.counted(msg.source.name, 'remove', () => super.remove(msg));
  }

  override snapshot(msg: Params<'snapshot'>): Promise<Message> {
    return this.counted(msg.source.name, 'snapshot', () => super.snapshot(msg));
  }

  override sourceStatus(msg: Params<'sourceStatus'>): Promise<Message> {
    return this.counted(msg.source.name, 'sourceStatus', () => super.sourceStatus(msg));
  }

  close(): Promise<void> {
    return this.ingestQueue.close();
  }

  private async counted(source: string, type: string, send: () => Promise<Message>): Promise<Message> {
    try {
      const message = await send();
      this.metrics?.sent(source, type);
      return message;
    } catch (err) {
      this.metrics?.error(source, `send_${type}`);
      throw err;
    }
  }
}
