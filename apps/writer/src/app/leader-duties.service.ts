import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, createRedisConnection } from '@registry-bridge/app-config';
import { WriterConfig } from '@registry-bridge/config/writer';
import type { Logger } from 'pino';
import { IngestWorker } from './ingest.worker';
import { LeaderDuties, LeadershipService } from './leadership.service';
import { ObjectCache } from './object-cache.service';
import { ReconcileWorker } from './reconcile.worker';
import { ResyncService } from './resync.service';
import { LOGGER } from './writer.tokens';
import { WriterMetrics } from './writer-metrics.service';

/**
 * What the writer does only while it leads, in order: watch what it owns, resync once, consume
 * both queues, resync on schedule; stopped in reverse when the lease is lost or the app stops.
 */
@Injectable()
export class LeaderDutiesService implements LeaderDuties {
  constructor(
    @Inject(APP_CONFIG) private readonly cfg: WriterConfig,
    private readonly leadership: LeadershipService,
    private readonly cache: ObjectCache,
    private readonly resync: ResyncService,
    private readonly ingest: IngestWorker,
    private readonly reconcile: ReconcileWorker,
    private readonly metrics: WriterMetrics,
    @Inject(LOGGER) private readonly log: Logger,
  ) {
    leadership.attach(this);
  }

  async start(): Promise<void> {
    this.metrics.leader.set(1);
    this.cache.start();
    try {
      await this.resync.fullResync();
    } catch (err) {
      this.log.error({ err: (err as Error).message }, 'initial resync failed; workers start anyway, resync retries on schedule');
    }
    if (!this.leadership.active()) return;
    // One connection for both workers (BullMQ adds its blocking connections itself).
    const connection = createRedisConnection(this.cfg.redis, { forWorker: true, connectionName: 'rb-writer-worker' });
    this.ingest.start(connection);
    this.reconcile.start(connection);
    this.resync.schedule();
  }

  async stop(): Promise<void> {
    this.metrics.leader.set(0);
    this.resync.unschedule();
    this.cache.stop();
    await Promise.all([this.ingest.stop(), this.reconcile.stop()]);
  }
}
