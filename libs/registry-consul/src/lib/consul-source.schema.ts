import { seconds, secret, toMs } from '@registry-bridge/app-config';
import { sourceNameSchema } from '@registry-bridge/contract';
import { sourceTlsSchema } from '@registry-bridge/source-kit';
import { z } from 'zod';

const pattern = z.string().min(1).max(256);

export const consulFiltersSchema = z
  .object({
    /** Glob patterns (`*`, `?`) on service names; empty = all. */
    allow: z.array(pattern).default([]),
    /** Glob patterns on service names; deny wins over allow. */
    deny: z.array(pattern).default([]),
    /** An instance must carry every one of these tags. */
    requiredTags: z.array(z.string().min(1)).default([]),
    /** An instance carrying any of these tags is skipped. */
    forbiddenTags: z.array(z.string().min(1)).default([]),
    /** Consul filter expression for /v1/catalog/services (ServiceNode selectors, e.g. `ServiceMeta.team == "a"`). */
    catalogExpression: z.string().min(1).max(4096).optional(),
    /** Consul filter expression for /v1/health/service/<name> (e.g. `Service.Meta.env == "prod"`). */
    healthExpression: z.string().min(1).max(4096).optional(),
    /** Connect sidecar proxies and gateways are not workloads of their own. */
    includeConnect: z.boolean().default(false),
    /** The `consul` service itself (the servers). */
    includeConsul: z.boolean().default(false),
  })
  .strict();

export const consulNormalizeSchema = z
  .object({
    /** Istio protocol when the service meta has no `protocol`; unset lets the writer decide. */
    defaultProtocol: z.string().min(1).max(32).optional(),
    /**
     * Consul `warning` counts as healthy, at the instance's `Weights.Warning`: what Consul DNS
     * (`dns_config.only_passing` false) and Connect (service-resolver `OnlyPassing` false) do by
     * default. `false` keeps only passing instances (like `/v1/health/service?passing`).
     */
    warningIsHealthy: z.boolean().default(true),
    /**
     * Read the protocol Connect users set centrally (`service-defaults` `Protocol`, else the
     * `proxy-defaults` `global` entry's `Config.protocol`), watched with blocking queries; an
     * instance's own `Meta.protocol` still wins.
     */
    protocolFromConfigEntries: z.boolean().default(true),
    /** Plain tags (not `k=v` / `k|v`) become labels `<prefix><tag>: "true"`; null drops them. */
    plainTagLabelPrefix: z.string().max(200).nullable().default('tag.'),
    /** If set, only these plain tags become labels. */
    plainTagAllowList: z.array(z.string().min(1)).optional(),
    /** Service meta becomes labels `<prefix><key>`; null drops them. */
    metaLabelPrefix: z.string().max(200).nullable().default(''),
    /** Service or node meta key holding the zone for the locality `<datacenter>/<zone>`. */
    zoneMetaKey: z.string().min(1).optional(),
    /** Istio network of the endpoints (multi-network meshes). */
    network: z.string().min(1).max(253).optional(),
  })
  .strict();

export const consulWatchSchema = z
  .object({
    /** Blocking wait sent to Consul (`wait=`). */
    waitSeconds: seconds(1, 600).default(60),
    /**
     * Upper bound of concurrent long polls per source. Consul limits HTTP connections per client IP
     * (limits.http_max_conns_per_client, 200 by default); stay well below it.
     */
    maxBlockingWatches: z.number().int().min(0).max(5000).default(128),
    /** Services outside the blocking pool are re-read round-robin at this rate (requests/s). */
    pollRatePerSecond: z.number().min(0.1).max(1000).default(20),
    /** Concurrency of those short polls. */
    pollConcurrency: z.number().int().min(1).max(64).default(4),
    /** Minimum spacing of two requests of one loop (churn degrades to polling). */
    minLoopIntervalSeconds: seconds(0, 60).default(0.2),
    backoffBaseSeconds: seconds(0.01).default(0.25),
    backoffMaxSeconds: seconds(0.01).default(30),
    /** Non-blocking request timeout. */
    requestTimeoutSeconds: seconds(0.1).default(10),
    /**
     * After a failed read, the next one is non-blocking (a blocking read on an unchanged index
     * would sit out its wait) with this timeout, growing by as much per further failure up to
     * `requestTimeoutSeconds`: a registry that answers again is seen within seconds.
     */
    recoveryTimeoutSeconds: seconds(0.1).default(3),
    /** Backoff cap of the catalog read while Consul is unreachable (it decides reachability). */
    recoveryProbeMaxSeconds: seconds(0.01).default(2),
    /** Consistency: `stale` spreads reads over servers (default), `default` goes to the leader, `consistent` checks leadership. */
    consistency: z.enum(['stale', 'default', 'consistent']).default('stale'),
    /** Complete snapshot re-sent at least this often by the lease holder. */
    snapshotIntervalSeconds: seconds(1).default(60),
  })
  .strict();

export const consulSourceSchema = z
  .object({
    name: sourceNameSchema,
    /** http(s)://host:port of a Consul agent or server. */
    address: z.string().url().refine((u) => /^https?:/.test(u), 'must be an http or https URL'),
    datacenter: z.string().min(1).max(128).optional(),
    /** Consul Enterprise namespace; becomes the record scope. */
    namespace: z.string().min(1).max(128).optional(),
    /** Consul Enterprise admin partition; becomes part of the record scope. */
    partition: z.string().min(1).max(128).optional(),
    /** ACL token as `{ file: path }` or `{ env: NAME }`; resolved at start, never logged. */
    token: secret().optional(),
    tls: sourceTlsSchema.optional(),
    filters: consulFiltersSchema.default(() => consulFiltersSchema.parse({})),
    normalize: consulNormalizeSchema.default(() => consulNormalizeSchema.parse({})),
    watch: consulWatchSchema.default(() => consulWatchSchema.parse({})),
  })
  .strict();
/** A source as configured (durations in seconds). */
export type ConsulSourceSettings = z.infer<typeof consulSourceSchema>;
export type ConsulSourceInput = z.input<typeof consulSourceSchema>;

/** The watch engine's options: the `watch` block in milliseconds. */
export interface ConsulWatchOptions {
  waitMs: number;
  maxBlockingWatches: number;
  pollRatePerSecond: number;
  pollConcurrency: number;
  minLoopIntervalMs: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
  requestTimeoutMs: number;
  recoveryTimeoutMs: number;
  recoveryProbeMaxMs: number;
  consistency: ConsulSourceSettings['watch']['consistency'];
  snapshotIntervalMs: number;
}

/** What the watcher, the reader and the client run on: a source with its `watch` block in milliseconds. */
export type ConsulSourceConfig = Omit<ConsulSourceSettings, 'watch'> & { watch: ConsulWatchOptions };

/** The one place a configured source's seconds become the engine's milliseconds. */
export function toWatchOptions(s: ConsulSourceSettings): ConsulSourceConfig {
  return { ...s, watch: watchBlockInMs(s.watch) };
}

/** The `watch` block in milliseconds (also what the watch parts' unit specs build their options with). */
export function watchBlockInMs(w: ConsulSourceSettings['watch']): ConsulWatchOptions {
  return {
    waitMs: toMs(w.waitSeconds),
    maxBlockingWatches: w.maxBlockingWatches,
    pollRatePerSecond: w.pollRatePerSecond,
    pollConcurrency: w.pollConcurrency,
    minLoopIntervalMs: toMs(w.minLoopIntervalSeconds),
    backoffBaseMs: toMs(w.backoffBaseSeconds),
    backoffMaxMs: toMs(w.backoffMaxSeconds),
    requestTimeoutMs: toMs(w.requestTimeoutSeconds),
    recoveryTimeoutMs: toMs(w.recoveryTimeoutSeconds),
    recoveryProbeMaxMs: toMs(w.recoveryProbeMaxSeconds),
    consistency: w.consistency,
    snapshotIntervalMs: toMs(w.snapshotIntervalSeconds),
  };
}

export const consulSourcesSchema = z
  .array(consulSourceSchema)
  .min(1)
  .refine((s) => new Set(s.map((x) => x.name)).size === s.length, { message: 'source names must be unique' });

/** Record scope of a source: `partition/namespace` as far as set (Enterprise only). */
export function sourceScope(src: Pick<ConsulSourceConfig, 'namespace' | 'partition'>): string | undefined {
  const parts = [src.partition, src.namespace].filter((x): x is string => !!x);
  return parts.length ? parts.join('/') : undefined;
}
