import { CollectorAdapter } from '@registry-bridge/collector-core';
import { BudgetRedis, cloudMapAdapter, CloudMapSourceSettings, RedisRequestBudget } from '@registry-bridge/registry-cloudmap';
import { CollectorCloudMapConfig } from '@registry-bridge/config/cloudmap';
import { CloudMapMetrics } from './cloudmap-metrics';

/** The Cloud Map adapter's watch with Cloud Map's metrics and the request budget in Redis (shared by all replicas). */
export const cloudMapCollector: CollectorAdapter<CollectorCloudMapConfig, CloudMapSourceSettings> = {
  kind: 'cloudmap',
  sources: (cfg) => cfg.sources,
  watch: (src, ctx, cfg, runtime) =>
    cloudMapAdapter.watch(src, ctx, {
      readinessGraceSeconds: cfg.readinessGraceSeconds,
      budget: new RedisRequestBudget(runtime.redis as unknown as BudgetRedis, src.name, src, `${cfg.redis.prefix}:cloudmap:budget`),
      observers: runtime.once('metrics', () => new CloudMapMetrics(runtime.metrics, runtime.collectorMetrics)).forSource(src),
    }),
};
