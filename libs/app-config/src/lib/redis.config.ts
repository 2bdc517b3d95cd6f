import { DEFAULT_QUEUE_PREFIX } from '@registry-bridge/contract';
import { Cluster, ClusterOptions, Redis, RedisOptions } from 'ioredis';
import type { ConnectionOptions as TlsOptions } from 'node:tls';
import { z } from 'zod';
import { seconds, switchableTlsSchema, toMs } from './common.config';
import { secret } from './secret.schema';
import { loadTls, TlsFileError } from './tls-files';

const hostPortSchema = z.strictObject({
  host: z.string().min(1),
  port: z.number().int().min(1).max(65535),
});

export const redisTlsSchema = switchableTlsSchema;

export const redisConfigSchema = z
  .strictObject({
    mode: z.enum(['standalone', 'sentinel', 'cluster']).default('standalone'),
    /** standalone: `redis://host:port[/db]` or `rediss://...` (credentials go in username/password, not here). */
    url: z.string().regex(/^rediss?:\/\//, 'must start with redis:// or rediss://').optional(),
    /** sentinel: the sentinels and the monitored master's name. */
    sentinels: z.array(hostPortSchema).min(1).optional(),
    name: z.string().min(1).optional(),
    sentinelUsername: z.string().min(1).optional(),
    sentinelPassword: secret().optional(),
    /** cluster: seed nodes. */
    nodes: z.array(hostPortSchema).min(1).optional(),
    username: z.string().min(1).optional(),
    password: secret().optional(),
    tls: redisTlsSchema,
    /** BullMQ key prefix; must be a `{hash tag}` in cluster mode so a queue's keys share a slot. */
    prefix: z.string().min(1).default(DEFAULT_QUEUE_PREFIX),
    db: z.number().int().min(0).max(15).optional(),
    connectTimeoutSeconds: seconds(0.1, 600).default(10),
  })
  .superRefine((cfg, ctx) => {
    const need = (ok: unknown, path: string, message: string) => ok || ctx.addIssue({ code: 'custom', path: [path], message });
    if (cfg.mode === 'standalone') need(cfg.url, 'url', 'required when mode is standalone');
    if (cfg.mode === 'sentinel') {
      need(cfg.sentinels, 'sentinels', 'required when mode is sentinel');
      need(cfg.name, 'name', 'required when mode is sentinel (the master name)');
    }
    if (cfg.mode === 'cluster') {
      need(cfg.nodes, 'nodes', 'required when mode is cluster');
      need(/\{[^}]+\}/.test(cfg.prefix), 'prefix', 'must contain a {hash tag} in cluster mode');
      need(cfg.db === undefined, 'db', 'Redis Cluster has only db 0');
    }
    // A password inside the URL would end up in logs and process listings.
    if (cfg.url && /^rediss?:\/\/[^@/]*:[^@/]+@/.test(cfg.url)) {
      ctx.addIssue({ code: 'custom', path: ['url'], message: 'must not carry a password; use redis.password ({ file } or { env })' });
    }
  });

export type RedisConfig = z.infer<typeof redisConfigSchema>;
export type RedisConfigInput = z.input<typeof redisConfigSchema>;

export interface RedisConnectionOptions {
  /**
   * For a BullMQ Worker (or anything issuing blocking commands): `maxRetriesPerRequest: null`,
   * so commands wait out a reconnect, as BullMQ requires. Otherwise a command fails after a few
   * reconnect attempts, so producers and health checks report an outage instead of hanging.
   */
  forWorker?: boolean;
  /** Do not dial until first use (tests, or apps that connect explicitly). */
  lazyConnect?: boolean;
  /** `CLIENT SETNAME`, visible in `CLIENT LIST` for operators. */
  connectionName?: string;
}

export function redisTlsOptions(cfg: RedisConfig): TlsOptions | undefined {
  if (!cfg.tls.enabled && !cfg.url?.startsWith('rediss://')) return undefined;
  try {
    return loadTls(cfg.tls);
  } catch (err) {
    if (err instanceof TlsFileError) throw new Error(`redis.${err.message}`);
    throw err;
  }
}

/** ioredis options shared by all three modes (in cluster mode: per-node options). */
export function redisClientOptions(cfg: RedisConfig, opts: RedisConnectionOptions = {}): RedisOptions {
  const tls = redisTlsOptions(cfg);
  const options: RedisOptions = {
    enableReadyCheck: true,
    maxRetriesPerRequest: opts.forWorker ? null : 3,
    connectTimeout: toMs(cfg.connectTimeoutSeconds),
    lazyConnect: opts.lazyConnect ?? false,
    // Reconnect forever with a capped backoff: Redis coming back must heal the app by itself.
    retryStrategy: (times) => Math.min(200 * 2 ** Math.min(times, 6), 5000),
  };
  if (cfg.username) options.username = cfg.username;
  if (cfg.password) options.password = cfg.password;
  if (cfg.db !== undefined) options.db = cfg.db;
  if (tls) options.tls = tls;
  if (opts.connectionName) options.connectionName = opts.connectionName;
  return options;
}

/** An ioredis connection (Redis or Cluster) for the configured mode, usable by BullMQ. */
export function createRedisConnection(cfg: RedisConfig, opts: RedisConnectionOptions = {}): Redis | Cluster {
  const options = redisClientOptions(cfg, opts);
  switch (cfg.mode) {
    case 'standalone':
      if (!cfg.url) throw new Error('redis.url: required when mode is standalone');
      return new Redis(cfg.url, options);
    case 'sentinel':
      return new Redis({
        ...options,
        sentinels: cfg.sentinels,
        name: cfg.name,
        ...(cfg.sentinelUsername && { sentinelUsername: cfg.sentinelUsername }),
        ...(cfg.sentinelPassword && { sentinelPassword: cfg.sentinelPassword }),
        ...(options.tls && { enableTLSForSentinelMode: true, sentinelTLS: options.tls }),
      });
    case 'cluster': {
      const { lazyConnect, ...redisOptions } = options;
      const clusterOptions: ClusterOptions = {
        redisOptions,
        lazyConnect,
        enableReadyCheck: true,
        clusterRetryStrategy: options.retryStrategy,
        // With TLS the nodes' certificates name hosts, not the IPs CLUSTER SLOTS returns.
        ...(options.tls && { dnsLookup: (address, callback) => callback(null, address) }),
      };
      if (!cfg.nodes) throw new Error('redis.nodes: required when mode is cluster');
      return new Cluster(cfg.nodes, clusterOptions);
    }
  }
}
