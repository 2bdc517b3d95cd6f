import { Injectable } from '@nestjs/common';
import { MetricsService } from '@registry-bridge/observability';

/** Every metric the writer exports; names follow DESIGN section 6. */
@Injectable()
export class WriterMetrics {
  readonly propagation;
  readonly writes;
  readonly noops;
  readonly guardTrips;
  readonly deadLetters;
  readonly staleRecords;
  readonly refused;
  readonly refusedObjects;
  readonly drops;
  readonly reconcileSeconds;
  readonly reconciles;
  readonly kubeRequests;
  readonly leader;
  readonly ingested;

  constructor(readonly metrics: MetricsService) {
    this.propagation = metrics.histogram('registry_bridge_propagation_seconds', 'From the registry observation (observedAt) to the applied Kubernetes write', ['source'], [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60]);
    this.writes = metrics.counter('registry_bridge_kube_writes_total', 'Kubernetes writes by kind and action', ['kind', 'action']);
    this.noops = metrics.counter('registry_bridge_noop_skips_total', 'Reconciles that found the object already right and wrote nothing', ['kind']);
    this.guardTrips = metrics.counter('registry_bridge_guard_trips_total', 'Deletions held by a safety guard', ['source', 'guard']);
    this.deadLetters = metrics.counter('registry_bridge_dead_letters_total', 'Messages sent to the dead-letter queue (rb-dead-letter) by reason: invalid, unreadable, unknown-source, kind-mismatch', ['reason']);
    this.staleRecords = metrics.counter('registry_bridge_stale_records_total', 'Records ignored because a newer revision was already stored', ['source']);
    this.refused = metrics.counter('registry_bridge_refused_total', 'Services refused (host outside allow-list, collisions, ...)', ['source', 'reason']);
    this.refusedObjects = metrics.counter('registry_bridge_refused_objects_total', 'ServiceEntries of keys refused after they were written: emptied at once, deleted under the deletion rules', ['source', 'action']);
    this.drops = metrics.counter('registry_bridge_translation_drops_total', 'Fields, endpoints and labels dropped from records, by reason', ['source', 'reason']);
    this.reconcileSeconds = metrics.histogram('registry_bridge_reconcile_seconds', 'Duration of one service reconcile', ['action'], [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5]);
    this.reconciles = metrics.counter('registry_bridge_reconciles_total', 'Service reconciles by path: straight from the ingest job, or from the reconcile queue (busy key, retry, drift, resync)', ['path']);
    this.kubeRequests = metrics.counter('registry_bridge_kube_requests_total', 'Kubernetes API requests by verb, kind and outcome', ['verb', 'kind', 'outcome']);
    this.leader = metrics.gauge('registry_bridge_writer_leader', '1 while this writer holds the lease');
    this.ingested = metrics.counter('registry_bridge_ingest_messages_total', 'Ingest messages processed by type and outcome', ['type', 'outcome']);
  }
}
