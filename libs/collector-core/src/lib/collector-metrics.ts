import { MetricsService } from '@registry-bridge/observability';
import { Counter, Gauge } from 'prom-client';

/** Metrics every collector reports, with the same names and labels across registries. */
export class CollectorMetrics {
  readonly changes: Counter<'source'>;
  readonly errors: Counter<'source' | 'op'>;
  readonly lastSuccess: Gauge<'source'>;
  readonly recordsSent: Counter<'source' | 'type'>;
  readonly members: Gauge<string>;
  readonly ownedServices: Gauge<'source'>;

  constructor(metrics: MetricsService, memberCount?: () => number) {
    this.changes = metrics.counter('registry_bridge_collector_changes_total', 'Changes observed in the registry and emitted, per source.', ['source']);
    this.errors = metrics.counter('registry_bridge_collector_errors_total', 'Failed registry or queue operations.', ['source', 'op']);
    this.lastSuccess = metrics.gauge(
      'registry_bridge_collector_last_success_timestamp_seconds',
      'Unix time of the last successful read of the registry, per source.',
      ['source'],
    );
    this.recordsSent = metrics.counter('registry_bridge_collector_records_sent_total', 'Messages sent to the ingest queue, by type.', ['source', 'type']);
    this.members = metrics.gauge(
      'registry_bridge_collector_members',
      'Live replicas of this collector kind, as this replica sees them.',
      [],
      memberCount && ((g) => g.set(memberCount())),
    );
    this.ownedServices = metrics.gauge('registry_bridge_collector_owned_services', 'Services this replica watches, per source.', ['source']);
  }

  change(source: string, n = 1): void {
    this.changes.inc({ source }, n);
  }

  error(source: string, op: string): void {
    this.errors.inc({ source, op });
  }

  success(source: string, at: Date = new Date()): void {
    this.lastSuccess.set({ source }, at.getTime() / 1000);
  }

  sent(source: string, type: string): void {
    this.recordsSent.inc({ source, type });
  }

  owned(source: string, count: number): void {
    this.ownedServices.set({ source }, count);
  }
}
