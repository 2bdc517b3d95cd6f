import { CollectorAdapter } from '@registry-bridge/collector-core';
import { eurekaAdapter, EurekaSourceConfig } from '@registry-bridge/registry-eureka';
import { CollectorEurekaConfig } from '@registry-bridge/config/eureka';
import { EurekaMetrics } from './eureka-metrics';

/** The Eureka adapter's watch with Eureka's metrics and lease cadence. */
export const eurekaCollector: CollectorAdapter<CollectorEurekaConfig, EurekaSourceConfig> = {
  kind: 'eureka',
  sources: (cfg) => cfg.sources,
  watch: (src, ctx, cfg, runtime) => {
    const metrics = runtime.once('metrics', () => new EurekaMetrics(runtime.metrics));
    const shared = runtime.collectorMetrics;
    const source = src.name;
    return eurekaAdapter.watch(src, ctx, {
      leaseCheckSeconds: cfg.leaseCheckSeconds,
      readinessGraceSeconds: cfg.readinessGraceSeconds,
      hooks: metrics.hooksFor(source, (op) => shared.error(source, op)),
      observer: {
        leader: (held) => metrics.leader.set({ source }, held ? 1 : 0),
        success: () => shared.success(source),
        changes: (n) => shared.change(source, n),
        owned: (n) => shared.owned(source, n),
        error: (op) => shared.error(source, op),
      },
    });
  },
};
