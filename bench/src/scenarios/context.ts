import type { Redis } from 'ioredis';
import type { KubeAdmin } from '../lib/kube';
import type { Profile } from '../lib/profiles';

/** Everything a scenario needs; one per run. */
export interface BenchContext {
  id: string;
  profile: Profile;
  kube: KubeAdmin;
  redis: Redis;
  redisUrl: string;
  kubeconfig: string;
  distDir: string;
  runDir: string;
  appEnv: Record<string, string>;
  /** The node binary that runs the apps (--node), and its version for the report. */
  node: { binary: string; version: string };
  nodeFlags: string[];
  basePort: number;
  /** Steps of a registry phase to leave out (idle, noop, restart, steady, rolling, churn). */
  skip: Set<string>;
  /** pid of the bench's own redis-server, when it runs one (its CPU shows what bounds the queue). */
  redisPid?: number;
}

export const redisConfig = (ctx: BenchContext, tag: string) => ({ url: ctx.redisUrl, prefix: `{rbb-${ctx.id}-${tag}}` });

/** Writer config for a bench phase: the API server's admin kubeconfig, raised client rate limit. */
export function writerConfig(ctx: BenchContext, tag: string, namespace: string, sources: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  return {
    installation: `bench-${tag}`.slice(0, 63),
    redis: redisConfig(ctx, tag),
    kubernetes: { kubeconfig: ctx.kubeconfig, qps: ctx.profile.writer.qps, burst: ctx.profile.writer.burst },
    leaderElection: { namespace, leaseName: 'writer' },
    // Records of idle keys are reconciled by the ingest worker, so both pools bound the write rate.
    reconcile: { concurrency: ctx.profile.writer.concurrency, ingestConcurrency: ctx.profile.writer.concurrency },
    defaults: { namespace },
    sources,
    ...extra,
  };
}

/** Deletes a phase's Redis keys (queues and state) once it is over. */
export async function dropRedisPrefix(redis: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length) await redis.unlink(...keys);
  } while (cursor !== '0');
}
