import { CollectorMetrics } from '@registry-bridge/collector-core';
import { MetricsService } from '@registry-bridge/observability';
import { budgetFor, CLOUDMAP_APIS, CloudMapApi, CloudMapApiObserver, CloudMapSourceSettings, DropReason, WatcherObserver } from '@registry-bridge/registry-cloudmap';
import { Counter, Gauge, Histogram } from 'prom-client';

/** Cloud Map series next to the shared collector ones; `source` on every series. */
export class CloudMapMetrics {
  private readonly requests: Counter<'source' | 'api' | 'outcome'>;
  private readonly requestSeconds: Histogram<'source' | 'api'>;
  private readonly throttles: Counter<'source' | 'api'>;
  private readonly tokens: Counter<'source' | 'api'>;
  private readonly waitSeconds: Histogram<'source' | 'api'>;
  private readonly factor: Gauge<'source' | 'api'>;
  private readonly budgetRps: Gauge<'source' | 'api'>;
  private readonly usedRatio: Gauge<'source' | 'api'>;
  private readonly changesSeen: Counter<'source' | 'kind'>;
  private readonly skips: Counter<'source' | 'reason'>;
  private readonly dropped: Counter<'source' | 'reason'>;
  private readonly cycleSeconds: Histogram<'source' | 'phase'>;
  private readonly services: Gauge<'source'>;

  constructor(
    metrics: MetricsService,
    private readonly shared: CollectorMetrics,
  ) {
    const sa = ['source', 'api'] as const;
    this.requests = metrics.counter('registry_bridge_cloudmap_api_requests_total', 'Cloud Map API requests sent, by API and outcome (ok, throttled, error).', ['source', 'api', 'outcome']);
    this.requestSeconds = metrics.histogram('registry_bridge_cloudmap_api_request_seconds', 'Cloud Map API request latency.', sa, [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]);
    this.throttles = metrics.counter('registry_bridge_cloudmap_throttles_total', 'ThrottlingException (or RequestLimitExceeded) answers.', sa);
    this.tokens = metrics.counter('registry_bridge_cloudmap_budget_tokens_total', 'Request budget used: tokens taken by this replica (sum over replicas against budget_rps).', sa);
    this.waitSeconds = metrics.histogram('registry_bridge_cloudmap_budget_wait_seconds', 'Time a request waited for a budget token.', sa, [0.001, 0.01, 0.05, 0.1, 0.5, 1, 5, 30]);
    this.factor = metrics.gauge('registry_bridge_cloudmap_budget_factor', 'Adaptive share of the budget in force (1 = full, halved per throttle).', sa);
    this.budgetRps = metrics.gauge('registry_bridge_cloudmap_budget_rps', 'Configured request budget, requests per second, for all replicas together.', sa);
    this.usedRatio = metrics.gauge('registry_bridge_cloudmap_budget_used_ratio', "This replica's share of the budget used over the last 10 s.", sa);
    this.changesSeen = metrics.counter('registry_bridge_cloudmap_changes_total', 'Changes seen and sent, by kind (added, revision, health, removed).', ['source', 'kind']);
    this.skips = metrics.counter('registry_bridge_cloudmap_skips_total', 'Service reads that sent nothing, by reason (revision-unchanged, content-unchanged).', ['source', 'reason']);
    this.dropped = metrics.counter('registry_bridge_cloudmap_dropped_total', 'Endpoints or fields dropped during normalization, by reason.', ['source', 'reason']);
    this.cycleSeconds = metrics.histogram('registry_bridge_cloudmap_cycle_seconds', 'Duration of an inventory or poll cycle.', ['source', 'phase'], [0.05, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 300]);
    this.services = metrics.gauge('registry_bridge_cloudmap_services', 'Services selected in the last complete inventory.', ['source']);
  }

  /** Observers for one source; the returned stop() ends its used-ratio sampler. */
  forSource(src: CloudMapSourceSettings): { api: CloudMapApiObserver; watcher: WatcherObserver; stop: () => void } {
    const source = src.name;
    const windowSeconds = 10;
    const taken = new Map<CloudMapApi, number>();
    for (const api of CLOUDMAP_APIS) {
      this.budgetRps.set({ source, api }, budgetFor(src, api).rps);
      this.factor.set({ source, api }, 1);
    }
    const sampler = setInterval(() => {
      for (const api of CLOUDMAP_APIS) {
        this.usedRatio.set({ source, api }, (taken.get(api) ?? 0) / (budgetFor(src, api).rps * windowSeconds));
        taken.set(api, 0);
      }
    }, windowSeconds * 1000);
    sampler.unref();
    const api: CloudMapApiObserver = {
      onRequest: (a, outcome, seconds) => {
        this.requests.inc({ source, api: a, outcome });
        this.requestSeconds.observe({ source, api: a }, seconds);
        if (outcome === 'error') this.shared.error(source, a);
      },
      onBudget: (a, grant) => {
        this.tokens.inc({ source, api: a });
        taken.set(a, (taken.get(a) ?? 0) + 1);
        this.waitSeconds.observe({ source, api: a }, grant.waitedMs / 1000);
        this.factor.set({ source, api: a }, grant.factor);
      },
      onThrottle: (a, factor) => {
        this.throttles.inc({ source, api: a });
        this.factor.set({ source, api: a }, factor);
      },
    };
    const watcher: WatcherObserver = {
      onDrops: (drops) => {
        for (const [reason, n] of Object.entries(drops) as Array<[DropReason, number]>) this.dropped.inc({ source, reason }, n);
      },
      onChange: (kind) => {
        this.changesSeen.inc({ source, kind });
        this.shared.change(source);
      },
      onSkip: (reason) => this.skips.inc({ source, reason }),
      onServices: (total, owned) => {
        this.services.set({ source }, total);
        this.shared.owned(source, owned);
      },
      onSuccess: (at) => this.shared.success(source, new Date(at)),
      onError: () => undefined,
      onCycle: (phase, seconds) => this.cycleSeconds.observe({ source, phase }, seconds),
    };
    return { api, watcher, stop: () => clearInterval(sampler) };
  }
}
