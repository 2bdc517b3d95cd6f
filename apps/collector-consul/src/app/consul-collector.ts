import { CollectorAdapter } from '@registry-bridge/collector-core';
import { consulAdapter, ConsulSourceSettings } from '@registry-bridge/registry-consul';
import { CollectorConsulConfig } from '@registry-bridge/config/consul';
import { ConsulMetrics } from './consul-metrics';

/** The Consul adapter's watch with Consul's metrics and readiness grace. */
export const consulCollector: CollectorAdapter<CollectorConsulConfig, ConsulSourceSettings> = {
  kind: 'consul',
  sources: (cfg) => cfg.sources,
  watch: (src, ctx, cfg, runtime) =>
    consulAdapter.watch(src, ctx, {
      readinessGraceSeconds: cfg.readinessGraceSeconds,
      metrics: (sockets) => runtime.once('metrics', () => new ConsulMetrics(runtime.metrics, runtime.collectorMetrics)).forSource(src.name, sockets),
    }),
};
