import type { Provider } from '@nestjs/common';
import { APP_CONFIG, createRedisConnection } from '@registry-bridge/app-config';
import { EventRecorder, KubeClient } from '@registry-bridge/kube';
import { createLogger } from '@registry-bridge/observability';
import { SourceRules, sourceRules } from '@registry-bridge/translation';
import { WriterConfig } from '@registry-bridge/config/writer';
import type { Cluster, Redis } from 'ioredis';
import type { Logger } from 'pino';
import { DeletionPolicy } from './deletion.policy';
import { HostIndex } from './host-index.service';
import { LeadershipService, writerIdentity } from './leadership.service';
import { ObjectCache } from './object-cache.service';
import { ReconcileQueue } from './reconcile-queue.service';
import { StateStore } from './state-store.service';
import { EVENTS, KUBE, LOGGER, REDIS, SOURCE_RULES, WriterEvents } from './writer.tokens';
import { WriterMetrics } from './writer-metrics.service';

/** The writer's shared connections and settings, built once from the config. */
export const writerProviders: Provider[] = [
  { provide: LOGGER, inject: [APP_CONFIG], useFactory: (cfg: WriterConfig) => createLogger({ app: 'writer', level: cfg.log.level }) },
  { provide: SOURCE_RULES, inject: [APP_CONFIG], useFactory: (cfg: WriterConfig) => sourceRules(cfg) },
  { provide: REDIS, inject: [APP_CONFIG], useFactory: (cfg: WriterConfig) => createRedisConnection(cfg.redis, { connectionName: 'rb-writer' }) },
  {
    provide: KUBE,
    inject: [APP_CONFIG, WriterMetrics],
    useFactory: (cfg: WriterConfig, metrics: WriterMetrics) =>
      KubeClient.fromOptions({ ...cfg.kubernetes, onRequest: (verb, kind, outcome) => metrics.kubeRequests.inc({ verb, kind, outcome }) }),
  },
  {
    provide: EVENTS,
    inject: [APP_CONFIG, KUBE],
    useFactory: (cfg: WriterConfig, kube: KubeClient): WriterEvents => ({
      recorder: cfg.events.enabled ? new EventRecorder(kube, 'registry-bridge-writer', writerIdentity(cfg)) : undefined,
      // A refusal with no object of its own (say a host outside the allow-list) is recorded on the
      // Lease: it exists for every installation and operators look at it for the writer anyway.
      fallback: { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', namespace: cfg.leaderElection.namespace, name: cfg.leaderElection.leaseName },
    }),
  },
  { provide: StateStore, inject: [REDIS, APP_CONFIG], useFactory: (redis: Redis | Cluster, cfg: WriterConfig) => new StateStore(redis, cfg.redis.prefix) },
  { provide: DeletionPolicy, inject: [APP_CONFIG], useFactory: (cfg: WriterConfig) => new DeletionPolicy(cfg.deletion) },
  {
    provide: ObjectCache,
    inject: [APP_CONFIG, KUBE, SOURCE_RULES, LOGGER, HostIndex, LeadershipService, ReconcileQueue],
    useFactory: (cfg: WriterConfig, kube: KubeClient, rules: Map<string, SourceRules>, log: Logger, hosts: HostIndex, leadership: LeadershipService, queue: ReconcileQueue) => {
      const namespaces = [...new Set([...rules.values()].map((r) => r.namespace))];
      return new ObjectCache(kube, namespaces, cfg.installation, log, hosts, (key, obj, type) => {
        if (!leadership.isLeader()) return;
        log.info({ key, object: `${obj.kind} ${obj.namespace}/${obj.name}`, change: type }, 'managed object changed by someone else; reconciling');
        void queue.enqueueKey(key).catch((err: Error) => log.warn({ key, err: err.message }, 'could not enqueue drift repair'));
      });
    },
  },
];
