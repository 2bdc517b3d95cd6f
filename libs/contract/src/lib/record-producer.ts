import type { JobsOptions } from 'bullmq';
import { z } from 'zod';
import { describeIssues } from './parse-message';
import { INGEST_JOB_NAMES, INGEST_JOB_OPTIONS } from './queues';
import {
  CONTRACT_VERSION,
  Message,
  messageSchema,
  removeMessageSchema,
  ServiceRecordInput,
  snapshotMessageSchema,
  sourceStatusMessageSchema,
  upsertMessageSchema,
} from './record.schema';

/** The one method of a BullMQ `Queue` the producer needs (so unit tests can pass a fake). */
export interface IngestQueueLike {
  add(name: string, data: unknown, opts?: JobsOptions): Promise<unknown>;
}

export class ContractViolationError extends Error {
  constructor(
    readonly messageType: string,
    readonly detail: string,
  ) {
    super(`refusing to send an invalid ${messageType}: ${detail}`);
    this.name = 'ContractViolationError';
  }
}

type Without<T, K extends string> = Omit<T, K | 'v' | 'type'>;

/**
 * Typed producer used by every collector: validates each message against the contract before
 * it leaves the process, so a bad record is caught (and counted) where it was made.
 */
export class RecordProducer {
  constructor(
    private readonly queue: IngestQueueLike,
    private readonly jobOptions: JobsOptions = INGEST_JOB_OPTIONS,
  ) {}

  upsert(record: ServiceRecordInput): Promise<Message> {
    return this.send(upsertMessageSchema, { v: CONTRACT_VERSION, type: 'upsert', record });
  }

  remove(msg: Without<z.input<typeof removeMessageSchema>, never>): Promise<Message> {
    return this.send(removeMessageSchema, { ...msg, v: CONTRACT_VERSION, type: 'remove' });
  }

  snapshot(msg: Without<z.input<typeof snapshotMessageSchema>, never>): Promise<Message> {
    return this.send(snapshotMessageSchema, { ...msg, v: CONTRACT_VERSION, type: 'snapshot' });
  }

  sourceStatus(msg: Without<z.input<typeof sourceStatusMessageSchema>, never>): Promise<Message> {
    return this.send(sourceStatusMessageSchema, { ...msg, v: CONTRACT_VERSION, type: 'sourceStatus' });
  }

  private async send(schema: z.ZodType, data: { v: number; type: Message['type']; [field: string]: unknown }): Promise<Message> {
    const parsed = schema.safeParse(data);
    if (!parsed.success) throw new ContractViolationError(data.type, describeIssues(parsed.error));
    // Re-check against the union so what we send is exactly what the writer accepts.
    const message = messageSchema.parse(parsed.data);
    await this.queue.add(INGEST_JOB_NAMES[message.type], message, this.jobOptions);
    return message;
  }
}
