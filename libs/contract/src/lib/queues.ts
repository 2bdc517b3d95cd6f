import type { JobsOptions } from 'bullmq';

/** Queue names shared by collectors and the writer. */
export const QUEUES = {
  /** Collectors -> writer: validated messages of the contract. */
  ingest: 'rb-ingest',
  /** Writer-internal: one job per service key (deduplicated), one per source for inventory. */
  reconcile: 'rb-reconcile',
  /** Messages that failed validation, with the reason. */
  deadLetter: 'rb-dead-letter',
} as const;

/** BullMQ key prefix; a hash tag keeps every key of a queue in one Redis Cluster slot. */
export const DEFAULT_QUEUE_PREFIX = '{rb}';

/** Ingest jobs: retried with backoff (a writer crash mid-job re-delivers them), bounded history. */
export const INGEST_JOB_OPTIONS: JobsOptions = {
  attempts: 10,
  backoff: { type: 'exponential', delay: 500 },
  removeOnComplete: { count: 1000, age: 3600 },
  removeOnFail: { count: 10000, age: 7 * 24 * 3600 },
};

export const INGEST_JOB_NAMES = {
  upsert: 'upsert',
  remove: 'remove',
  snapshot: 'snapshot',
  sourceStatus: 'sourceStatus',
} as const;
