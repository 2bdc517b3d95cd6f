import { Injectable } from '@nestjs/common';
import { WriterConnections } from './writer-connections.service';

const RECONCILE_OPTS = { attempts: 25, backoff: { type: 'capped' }, removeOnComplete: true, removeOnFail: { count: 1000 } } as const;

/**
 * The reconcile queue's producer side: one pending job per key (BullMQ deduplication with
 * keepLastIfActive), so a key is never reconciled twice at once and the job reads the newest state.
 */
@Injectable()
export class ReconcileQueue {
  constructor(private readonly connections: WriterConnections) {}

  async enqueueKey(key: string, delayMs = 0): Promise<void> {
    const queue = this.connections.queue('reconcile');
    if (delayMs > 0) {
      // A held key comes back later; a plain jobId keeps one such timer per key. BullMQ refuses a
      // custom id with one ':' (it reads them as repeatable-job ids), hence base64url and a '-'.
      await queue.add('requeue', { key }, { jobId: `requeue-${Buffer.from(key).toString('base64url')}`, delay: delayMs, removeOnComplete: true, removeOnFail: true });
      return;
    }
    await queue.add('service', { key }, { ...RECONCILE_OPTS, deduplication: { id: key, keepLastIfActive: true } });
  }

  /** A complete snapshot arrived: one pending garbage collection per source. */
  async enqueueSourceGc(source: string): Promise<void> {
    await this.connections.queue('reconcile').add('source-gc', { source }, { ...RECONCILE_OPTS, deduplication: { id: `gc:${source}`, keepLastIfActive: true } });
  }
}
