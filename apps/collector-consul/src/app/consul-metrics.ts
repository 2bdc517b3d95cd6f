import { CollectorMetrics } from '@registry-bridge/collector-core';
import { MetricsService } from '@registry-bridge/observability';
import { ConsulWatcherMetrics, WatchLoop } from '@registry-bridge/registry-consul';
import { Counter, Gauge, Histogram } from 'prom-client';

/** Consul-specific series next to the shared collector ones; `source` on every series. */
export class ConsulMetrics {
  private readonly watches: Gauge<'source'>;
  private readonly changesSeen: Counter<'source' | 'loop'>;
  private readonly indexResets: Counter<'source' | 'loop'>;
  private readonly dropped: Counter<'source' | 'reason'>;
  private readonly requests: Counter<'source' | 'loop' | 'mode'>;
  private readonly outcomes: Counter<'source' | 'outcome'>;
  private readonly openSockets: Gauge<'source'>;
  private readonly readSeconds: Histogram<'source'>;
  private readonly aclFiltered: Gauge<'source' | 'read'>;

  constructor(
    metrics: MetricsService,
    private readonly shared: CollectorMetrics,
  ) {
    this.watches = metrics.gauge('registry_bridge_consul_blocking_watches', 'Blocking health watches held open against Consul.', ['source']);
    this.changesSeen = metrics.counter('registry_bridge_consul_changes_seen_total', 'Blocking/poll answers that carried a new index, by loop.', ['source', 'loop']);
    this.indexResets = metrics.counter('registry_bridge_consul_index_resets_total', 'Blocking-query index resets (went backwards or 0).', ['source', 'loop']);
    this.dropped = metrics.counter('registry_bridge_consul_dropped_total', 'Endpoints or fields dropped during normalization, by reason.', ['source', 'reason']);
    this.requests = metrics.counter('registry_bridge_consul_requests_total', 'HTTP requests to Consul by loop and mode (blocking or poll).', ['source', 'loop', 'mode']);
    this.outcomes = metrics.counter('registry_bridge_consul_records_total', 'Service reads by outcome (upsert, remove, snapshot, unchanged).', ['source', 'outcome']);
    this.openSockets = metrics.gauge('registry_bridge_consul_open_connections', 'HTTP connections open to Consul (bounded by the socket budget).', ['source']);
    this.aclFiltered = metrics.gauge(
      'registry_bridge_consul_acl_filtered',
      'ACL filtering by Consul: read="catalog" 1 when the token may not list every service (snapshots incomplete), read="health" services whose instances are hidden (node:read missing).',
      ['source', 'read'],
    );
    this.readSeconds = metrics.histogram(
      'registry_bridge_consul_change_emit_seconds',
      'Time from a Consul answer with a change to the record being queued.',
      ['source'],
      [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
    );
  }

  forSource(source: string, sockets: () => number): ConsulWatcherMetrics {
    this.openSockets.set({ source }, 0);
    this.aclFiltered.set({ source, read: 'catalog' }, 0);
    this.aclFiltered.set({ source, read: 'health' }, 0);
    const gauge = this.openSockets;
    const sample = setInterval(() => gauge.set({ source }, sockets()), 5000);
    sample.unref();
    return {
      watchesActive: (n) => this.watches.set({ source }, n),
      changeSeen: (loop: WatchLoop) => this.changesSeen.inc({ source, loop }),
      error: (loop, kind) => this.shared.error(source, `${loop}_${kind}`),
      indexReset: (loop) => this.indexResets.inc({ source, loop }),
      dropped: (reason, n) => this.dropped.inc({ source, reason }, n),
      request: (loop, mode) => this.requests.inc({ source, loop, mode }),
      emitted: (type) => {
        this.outcomes.inc({ source, outcome: type });
        if (type === 'upsert' || type === 'remove') this.shared.change(source);
      },
      changeLatency: (s) => this.readSeconds.observe({ source }, s),
      aclFiltered: (read, n) => this.aclFiltered.set({ source, read }, n),
      owned: (n) => this.shared.owned(source, n),
    };
  }
}
