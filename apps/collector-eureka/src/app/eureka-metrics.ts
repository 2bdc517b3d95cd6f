import { Injectable } from '@nestjs/common';
import { MetricsService } from '@registry-bridge/observability';
import type { EurekaSyncHooks } from '@registry-bridge/registry-eureka';
import type { Counter, Gauge, Histogram } from 'prom-client';

/** Eureka-specific metrics, next to the shared collector ones (CollectorMetrics). */
@Injectable()
export class EurekaMetrics {
  readonly fetches: Counter<'source' | 'kind' | 'outcome'>;
  readonly fetchSeconds: Histogram<'source' | 'kind'>;
  readonly deltasApplied: Counter<'source'>;
  readonly hashMismatches: Counter<'source'>;
  readonly fullFetches: Counter<'source' | 'reason'>;
  readonly dropped: Counter<'source' | 'reason'>;
  readonly unchanged: Counter<'source'>;
  readonly selfPreservation: Gauge<'source'>;
  readonly renews: Gauge<'source' | 'kind'>;
  readonly leader: Gauge<'source'>;

  constructor(metrics: MetricsService) {
    this.fetches = metrics.counter('registry_bridge_eureka_fetches_total', 'Registry reads by kind (full /apps, delta /apps/delta) and outcome.', ['source', 'kind', 'outcome']);
    this.fetchSeconds = metrics.histogram('registry_bridge_eureka_fetch_duration_seconds', 'Duration of registry reads, failover included.', ['source', 'kind'], [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]);
    this.deltasApplied = metrics.counter('registry_bridge_eureka_deltas_applied_total', 'Deltas applied to the local copy of the registry.', ['source']);
    this.hashMismatches = metrics.counter('registry_bridge_eureka_hash_mismatches_total', 'Deltas after which the local apps__hashcode disagreed with the server.', ['source']);
    this.fullFetches = metrics.counter('registry_bridge_eureka_full_fetches_total', 'Full fetches by reason (start, periodic, hash_mismatch, delta_refused, delta_missed, delta_disabled).', ['source', 'reason']);
    this.dropped = metrics.counter('registry_bridge_eureka_dropped_total', 'Registry data dropped while building records sent downstream, by reason.', ['source', 'reason']);
    this.unchanged = metrics.counter('registry_bridge_eureka_unchanged_total', 'Services read again without change (no record sent).', ['source']);
    this.selfPreservation = metrics.gauge('registry_bridge_eureka_self_preservation', 'Eureka self-preservation: 1 active (expiry suspended), 0 not active, -1 unknown.', ['source']);
    this.renews = metrics.gauge('registry_bridge_eureka_renews_per_minute', 'Renews threshold and renews in the last minute, from the Eureka dashboard.', ['source', 'kind']);
    this.leader = metrics.gauge('registry_bridge_eureka_source_lease_held', '1 while this replica holds the source lease and reads the registry.', ['source']);
  }

  hooksFor(source: string, onError: (op: string) => void): EurekaSyncHooks {
    return {
      fetch: (kind, outcome, seconds) => {
        this.fetches.inc({ source, kind, outcome });
        this.fetchSeconds.observe({ source, kind }, seconds);
        if (outcome === 'error') onError(`fetch_${kind}`);
      },
      deltaApplied: () => this.deltasApplied.inc({ source }),
      hashMismatch: () => this.hashMismatches.inc({ source }),
      fullFetch: (reason) => this.fullFetches.inc({ source, reason }),
      dropped: (reason, n) => this.dropped.inc({ source, reason }, n),
      unchanged: (n) => this.unchanged.inc({ source }, n),
      selfPreservation: (state) => {
        this.selfPreservation.set({ source }, state === undefined ? -1 : state.active ? 1 : 0);
        if (state?.renewsThreshold !== undefined) this.renews.set({ source, kind: 'threshold' }, state.renewsThreshold);
        if (state?.renewsLastMin !== undefined) this.renews.set({ source, kind: 'last_min' }, state.renewsLastMin);
      },
    };
  }
}
