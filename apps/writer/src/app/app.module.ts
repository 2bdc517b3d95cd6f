import { Module } from '@nestjs/common';
import { APP_CONFIG, AppConfigModule } from '@registry-bridge/app-config';
import { LoggingModule, MetricsModule, RedisHealthModule } from '@registry-bridge/observability';
import { WriterConfig, writerConfigSchema } from '@registry-bridge/config/writer';
import { DeadLetterService } from './dead-letter.service';
import { HealthController } from './health.controller';
import { HostIndex } from './host-index.service';
import { IngestWorker } from './ingest.worker';
import { LeaderDutiesService } from './leader-duties.service';
import { LeadershipService } from './leadership.service';
import { ObjectWriter } from './object-writer.service';
import { ReconcileQueue } from './reconcile-queue.service';
import { ReconcileRunner } from './reconcile-runner.service';
import { ReconcileWorker } from './reconcile.worker';
import { Reconciler } from './reconciler.service';
import { ResyncService } from './resync.service';
import { SnapshotGc } from './snapshot-gc.service';
import { StatusBoard } from './status-board.service';
import { StatusController } from './status.controller';
import { StatusService } from './status.service';
import { WriterConnections } from './writer-connections.service';
import { writerProviders } from './writer.providers';
import { WriterMetrics } from './writer-metrics.service';

/** The writer's composition root: one provider per job (docs/architecture.md has the record's path through them). */
@Module({
  imports: [AppConfigModule.forRoot(writerConfigSchema), LoggingModule.forConfig({ app: 'writer', inject: [APP_CONFIG], level: (cfg: WriterConfig) => cfg.log.level }), MetricsModule, RedisHealthModule],
  controllers: [HealthController, StatusController],
  providers: [
    ...writerProviders,
    WriterMetrics,
    WriterConnections,
    LeadershipService,
    HostIndex,
    StatusBoard,
    ObjectWriter,
    Reconciler,
    ReconcileQueue,
    ReconcileRunner,
    DeadLetterService,
    SnapshotGc,
    IngestWorker,
    ReconcileWorker,
    ResyncService,
    LeaderDutiesService,
    StatusService,
  ],
})
export class AppModule {}
