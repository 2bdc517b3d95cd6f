import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG } from '@registry-bridge/app-config';
import { parseMessage, QUEUES, serviceKey } from '@registry-bridge/contract';
import { SourceRules } from '@registry-bridge/translation';
import { WriterConfig } from '@registry-bridge/config/writer';
import type { Job } from 'bullmq';
import type { Logger } from 'pino';
import { DeadLetterService } from './dead-letter.service';
import { ReconcileQueue } from './reconcile-queue.service';
import { ReconcileRunner } from './reconcile-runner.service';
import { StateStore } from './state-store.service';
import { QueueConsumer } from './queue.consumer';
import { unreadableReason } from './tolerant.worker';
import { LOGGER, SOURCE_RULES } from './writer.tokens';
import { WriterMetrics } from './writer-metrics.service';

/**
 * The ingest queue's consumer: validates each message, stores the newest state per key
 * (compare-on-revision in Redis) and reconciles the key at once when it is idle. One BullMQ job per
 * record instead of two halves the Redis round trips on the hot path (BENCHMARKS.md, finding 9).
 */
@Injectable()
export class IngestWorker extends QueueConsumer {
  constructor(
    @Inject(APP_CONFIG) cfg: WriterConfig,
    @Inject(SOURCE_RULES) private readonly rules: Map<string, SourceRules>,
    private readonly store: StateStore,
    private readonly deadLetter: DeadLetterService,
    private readonly runner: ReconcileRunner,
    private readonly queue: ReconcileQueue,
    private readonly metrics: WriterMetrics,
    @Inject(LOGGER) log: Logger,
  ) {
    super(QUEUES.ingest, cfg.reconcile.ingestConcurrency, cfg, log);
  }

  /** Ingest: validate, store newest state, reconcile (or enqueue a deduplicated reconcile). */
  async process(job: Job): Promise<string> {
    const unreadable = unreadableReason(job);
    if (unreadable) return this.deadLetter.send(job, unreadable.reason, 'unreadable', unreadable.raw);
    const parsed = parseMessage(job.data);
    if (!parsed.ok) return this.deadLetter.send(job, parsed.reason, 'invalid');
    const msg = parsed.message;
    const src = msg.type === 'upsert' ? msg.record.source : msg.source;
    const rules = this.rules.get(src.name);
    if (!rules) return this.deadLetter.send(job, `source ${src.name} is not configured in the writer`, 'unknown-source');
    if (rules.kind !== src.kind) return this.deadLetter.send(job, `source ${src.name} is configured as ${rules.kind}, message says ${src.kind}`, 'kind-mismatch');
    let outcome = 'ok';
    switch (msg.type) {
      case 'upsert':
      case 'remove': {
        // An upsert stores its record; a removal stores a tombstone (no record) under the same compare-on-revision.
        const r = msg.type === 'upsert' ? msg.record : msg;
        const key = serviceKey({ source: r.source.name, scope: r.scope, service: r.service });
        const res = await this.store.put(key, r.source.name, r.revision, r.lineage ?? '', Date.parse(r.observedAt), msg.type === 'upsert' ? msg.record : undefined);
        if (res === 'stale') this.metrics.staleRecords.inc({ source: r.source.name });
        else await this.runner.reconcileNow(key);
        outcome = res;
        break;
      }
      case 'snapshot': {
        const stored = await this.store.putSnapshot(msg);
        if (stored && msg.complete) await this.queue.enqueueSourceGc(msg.source.name);
        outcome = stored ? 'stored' : 'stale';
        break;
      }
      case 'sourceStatus':
        await this.store.putStatus(msg);
        break;
    }
    this.metrics.ingested.inc({ type: msg.type, outcome });
    return outcome;
  }
}
