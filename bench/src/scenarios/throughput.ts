// Queue throughput: N records pre-loaded on the ingest queue, the real writer process consuming
// them against the API server stub (kube-stub.ts), so the ceiling of our own ingest + reconcile
// path shows, not the API server's.
import { INGEST_JOB_NAMES, INGEST_JOB_OPTIONS, messageSchema, QUEUES } from '@registry-bridge/contract';
import { Queue } from 'bullmq';
import { join } from 'node:path';
import { AppRunner, scrapeCounter } from '../lib/apps';
import { KubeStub } from '../lib/kube-stub';
import { ProcSampler, sampleProc } from '../lib/proc';
import { commandStats, statsDelta } from '../lib/redis-stats';
import { log, nowMs, round, sleep } from '../lib/util';
import { address } from '../registries/registry';
import { BenchContext, dropRedisPrefix, redisConfig, writerConfig } from './context';

export interface ThroughputPass {
  pass: 'create' | 'update';
  records: number;
  ingestPerSecond: number;
  reconcilePerSecond: number;
  seconds: number;
  stubRequests: Record<string, number>;
  redisCommandsPerRecord: number;
  redisTopPerRecord: Record<string, number>;
  writerCpuPercent: number;
  redisServerCpuPercent?: number;
}

export interface ThroughputResult {
  records: number;
  instancesPerRecord: number;
  writer: { concurrency: number; qps: number; burst: number };
  passes: ThroughputPass[];
  peakRssMiB: Record<string, number>;
}

const SOURCE = 'consul-tput';

function upsert(s: number, instances: number, version: number) {
  return messageSchema.parse({
    v: 1,
    type: 'upsert',
    record: {
      source: { name: SOURCE, kind: 'consul' },
      service: `tput-s${s}`,
      ports: [{ name: 'http', number: 8080, protocol: 'HTTP' }],
      endpoints: Array.from({ length: instances }, (_, i) => ({ id: `n${i}/tput-s${s}-i${i}`, address: address(s, i), labels: { version: `v${version}` }, health: 'healthy' })),
      revision: version,
      observedAt: new Date().toISOString(),
    },
  });
}

export async function throughput(ctx: BenchContext, records: number): Promise<ThroughputResult> {
  const tag = 'tput';
  const ns = `rbb-${ctx.id}-tput`;
  const instances = ctx.profile.instances;
  const stub = new KubeStub();
  const port = await stub.start();
  const kubeconfig = join(ctx.runDir, 'stub.kubeconfig');
  stub.writeKubeconfig(kubeconfig, port);
  const redis = redisConfig(ctx, tag);
  const connection = ctx.redis.duplicate();
  const queue = new Queue(QUEUES.ingest, { connection, prefix: redis.prefix });
  const runner = new AppRunner(ctx.distDir, ctx.runDir, ctx.appEnv, ctx.basePort + 300, ctx.nodeFlags, ctx.node.binary);
  const sampler = new ProcSampler(() => runner.procs());
  const result: ThroughputResult = { records, instancesPerRecord: instances, writer: ctx.profile.writer, passes: [], peakRssMiB: {} };
  try {
    const cfg = writerConfig(ctx, tag, ns, { [SOURCE]: { kind: 'consul' } }, { events: { enabled: false } });
    Object.assign(cfg, { kubernetes: { ...cfg.kubernetes, kubeconfig }, leaderElection: { enabled: false }, reconcile: { ...cfg.reconcile, fullResyncSeconds: 0 } });
    const writer = await runner.start('writer', cfg, 'writer-tput');
    sampler.start(500);
    await sleep(2000); // the object cache lists and starts its watches
    for (const pass of ['create', 'update'] as const) {
      const ingested0 = await scrapeCounter(writer.port, 'registry_bridge_ingest_messages_total');
      const writes0 = stub.writes;
      const counts0 = { ...stub.counts };
      const r0 = await commandStats(ctx.redis);
      const cpu0 = sampleProc(writer.pid)?.cpuSeconds ?? 0;
      const redisCpu0 = ctx.redisPid ? sampleProc(ctx.redisPid)?.cpuSeconds : undefined;
      const version = pass === 'create' ? 1 : 2;
      log(`throughput (${pass}): queueing ${records} records`);
      const t0 = nowMs();
      for (let k = 0; k < records; k += 500) {
        const batch = Array.from({ length: Math.min(500, records - k) }, (_, j) => ({ name: INGEST_JOB_NAMES.upsert, data: upsert(k + j, instances, version), opts: INGEST_JOB_OPTIONS }));
        await queue.addBulk(batch);
      }
      let ingestDone = 0;
      let reconcileDone = 0;
      const deadline = nowMs() + Math.max(60, records / 20) * 1000;
      while ((!ingestDone || !reconcileDone) && nowMs() < deadline) {
        await sleep(100);
        if (!ingestDone && (await scrapeCounter(writer.port, 'registry_bridge_ingest_messages_total')) - ingested0 >= records) ingestDone = nowMs();
        if (!reconcileDone && stub.writes - writes0 >= records) reconcileDone = nowMs();
      }
      const secs = (nowMs() - t0) / 1000;
      const rd = statsDelta(r0, await commandStats(ctx.redis));
      const reqs: Record<string, number> = {};
      for (const [k, v] of Object.entries(stub.counts)) if (v - (counts0[k] ?? 0)) reqs[k] = v - (counts0[k] ?? 0);
      result.passes.push({
        pass,
        records,
        ingestPerSecond: ingestDone ? round(records / ((ingestDone - t0) / 1000)) : NaN,
        reconcilePerSecond: reconcileDone ? round(records / ((reconcileDone - t0) / 1000)) : NaN,
        seconds: round(secs, 2),
        stubRequests: reqs,
        redisCommandsPerRecord: round(rd.total / records, 1),
        redisTopPerRecord: Object.fromEntries(Object.entries(rd.top).map(([k, v]) => [k, round(v / records, 2)])),
        writerCpuPercent: round((((sampleProc(writer.pid)?.cpuSeconds ?? 0) - cpu0) / secs) * 100, 1),
        redisServerCpuPercent: ctx.redisPid && redisCpu0 !== undefined ? round((((sampleProc(ctx.redisPid)?.cpuSeconds ?? 0) - redisCpu0) / secs) * 100, 1) : undefined,
      });
      log(`throughput (${pass}): ingest ${result.passes.at(-1)?.ingestPerSecond}/s, reconcile ${result.passes.at(-1)?.reconcilePerSecond}/s`);
    }
  } finally {
    sampler.stop();
    for (const [name, kib] of sampler.peakKiB) result.peakRssMiB[name.replace('-tput', '')] = round(kib / 1024);
    await runner.stopAll();
    await queue.close();
    connection.disconnect();
    await stub.stop();
    await dropRedisPrefix(ctx.redis, redis.prefix);
  }
  return result;
}
