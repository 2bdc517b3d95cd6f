// Cold sync: the registry already holds N × 10, the API server holds nothing; start the writer and
// the collector and time until every ServiceEntry shows every endpoint (seen by the watch).
import { AppRunner } from '../lib/apps';
import { counterDelta } from '../lib/kube';
import { ProcSampler } from '../lib/proc';
import { log, nowMs, round } from '../lib/util';
import { RegistryDriver } from '../registries/registry';
import { BenchContext, dropRedisPrefix, redisConfig, writerConfig } from './context';
import { Tracker } from './tracker';

export interface ColdSyncResult {
  registry: string;
  services: number;
  instances: number;
  seedSeconds: number;
  /** From spawning the processes to the last ServiceEntry in sync. */
  seconds: number;
  firstObjectSeconds: number;
  apiServerWrites: number;
  /** istiod's status writes during the sync (not ours). */
  statusWrites: number;
  byVerb: Record<string, number>;
  refused429: number;
  writer: { qps: number; burst: number; concurrency: number };
  peakRssMiB: Record<string, number>;
}

export async function coldSync(ctx: BenchContext, driver: RegistryDriver, services: number): Promise<ColdSyncResult> {
  const instances = ctx.profile.instances;
  const tag = `cold-${driver.kind}`;
  const ns = `rbb-${ctx.id}-${tag}`.slice(0, 63);
  await ctx.kube.ensureNamespace(ns);
  const runner = new AppRunner(ctx.distDir, ctx.runDir, ctx.appEnv, ctx.basePort + 200, ctx.nodeFlags, ctx.node.binary);
  const sampler = new ProcSampler(() => runner.procs());
  const tracker = new Tracker(ctx.kube, ns, services, instances);
  const peak: Record<string, number> = {};
  try {
    log(`cold sync: seeding ${driver.label} with ${services} × ${instances}`);
    let t = nowMs();
    await driver.seed(services, instances, (n) => n % 10000 === 0 && log(`cold sync: ${n} instances registered`));
    const seedSeconds = round((nowMs() - t) / 1000);
    await tracker.start();
    let first = 0;
    const firstTimer = setInterval(() => {
      if (!first && tracker.events > 0) first = nowMs();
    }, 20);
    const c0 = await ctx.kube.requestCounters();
    t = nowMs();
    await runner.start('writer', writerConfig(ctx, tag, ns, { [driver.source]: driver.writerSource() }), 'writer-cold');
    await runner.start(driver.collectorApp(), driver.collectorConfig(redisConfig(ctx, tag)), `${driver.collectorApp()}-cold`);
    sampler.start(500);
    await tracker.waitInSync(300_000);
    const seconds = round((nowMs() - t) / 1000, 2);
    clearInterval(firstTimer);
    const d = counterDelta(c0, await ctx.kube.requestCounters());
    log(`cold sync: ${services} ServiceEntries in ${seconds} s, ${d.writes} writes, ${d.refused429} refused (429)`);
    sampler.stop();
    for (const [name, kib] of sampler.peakKiB) peak[name.replace('-cold', '')] = round(kib / 1024);
    return { registry: driver.label, services, instances, seedSeconds, seconds, firstObjectSeconds: round((first - t) / 1000, 2), apiServerWrites: d.writes, statusWrites: d.statusWrites, byVerb: d.writesByVerb, refused429: d.refused429, writer: ctx.profile.writer, peakRssMiB: peak };
  } finally {
    sampler.stop();
    tracker.stop();
    await runner.stopAll();
    log('cold sync: cleaning up');
    await driver.cleanup().catch(() => undefined);
    await ctx.kube.cleanNamespace(ns).catch(() => undefined);
    await dropRedisPrefix(ctx.redis, redisConfig(ctx, tag).prefix);
  }
}
