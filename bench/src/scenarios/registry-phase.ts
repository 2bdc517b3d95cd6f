// One registry at 1,000 × 10 (profile-sized): warm sync, idle cost, no-op events, restart of every
// app, steady change rate (latency), a rolling change, and a churn run for memory growth.
import { AppRunner, RunningApp, scrapeCounter, writerWriteRequests } from '../lib/apps';
import { ApiCounters, counterDelta } from '../lib/kube';
import { loadAverage, machineCpuSeconds, ProcSampler, sampleProc } from '../lib/proc';
import { commandStats, statsDelta } from '../lib/redis-stats';
import { log, nowMs, round, sleep, Summary, summarize } from '../lib/util';
import { RegistryDriver } from '../registries/registry';
import { BenchContext, dropRedisPrefix, redisConfig, writerConfig } from './context';
import { Sample, Tracker } from './tracker';

export interface WritesWindow {
  /** Writes (POST/PUT/PATCH/APPLY/DELETE) to ServiceEntries/WorkloadEntries counted by the API server: every client of the shared server, status writes excepted. */
  apiServer: number;
  byVerb: Record<string, number>;
  /** Writes to their status subresource (istiod's), counted by the API server. */
  statusWrites: number;
  /** Write requests our writer sent (its own client counter): tells our writes from other users'. */
  writer: number;
  /** Watch events in the phase's namespace; may include late deliveries of writes made before the window (a loaded API server lags), so no verdict uses it. */
  objectChanges: number;
  refused429: number;
  seconds: number;
}

export interface PhaseResult {
  registry: string;
  services: number;
  instances: number;
  seedSeconds: number;
  warmSyncSeconds: number;
  idle?: { seconds: number; cpuPercentOfOneCore: Record<string, number>; cpuTotalPercent: number; redisCommandsPerSecond: number; redisTop: Record<string, number>; writes: WritesWindow };
  noop?: { events: number; writes: WritesWindow };
  restart?: { writes: WritesWindow; resyncSeconds: number };
  /** writesPerChange: write requests of our writer per change (the API server's counter is shared; both are in `writes`). */
  latency?: { rate: number; seconds: number; changes: number; lost: number; writerMeanMs: number; all: Summary; byType: Record<string, Summary>; samples: Sample[]; writes: WritesWindow; writesPerChange: number };
  rolling?: { instances: number; seconds: number; writes: WritesWindow; writesPerChange: number; lost: number };
  churn?: { seconds: number; changes: number; rssStartMiB: Record<string, number>; rssEndMiB: Record<string, number>; growthMiB: Record<string, number> };
  peakRssMiB: Record<string, number>;
  /** How busy the shared machine was: load average at start and end, busy share of all cores. */
  machine: { loadStart: number[]; loadEnd: number[]; busyPercent: number };
}

class WriteCounter {
  private api!: ApiCounters;
  private writerBase = 0;
  private events = 0;
  private t0 = 0;

  constructor(
    private readonly ctx: BenchContext,
    private readonly tracker: Tracker,
    private readonly writer: () => RunningApp,
  ) {}

  async begin(): Promise<void> {
    this.api = await this.ctx.kube.requestCounters();
    this.writerBase = await writerWriteRequests(this.writer().port);
    this.events = this.tracker.events;
    this.t0 = Date.now();
  }

  /** Before the writer process is replaced: keep what the old one counted. */
  async carry(): Promise<void> {
    this.writerBase -= await writerWriteRequests(this.writer().port);
  }

  async end(): Promise<WritesWindow> {
    const d = counterDelta(this.api, await this.ctx.kube.requestCounters());
    const writer = (await writerWriteRequests(this.writer().port)) - this.writerBase;
    return { apiServer: d.writes, byVerb: d.writesByVerb, statusWrites: d.statusWrites, writer, objectChanges: this.tracker.events - this.events, refused429: d.refused429, seconds: round((Date.now() - this.t0) / 1000) };
  }
}

export async function registryPhase(ctx: BenchContext, driver: RegistryDriver, key: string, full: boolean): Promise<PhaseResult> {
  const p = ctx.profile;
  const run = (step: string) => !ctx.skip.has(step);
  const tag = `${key}`;
  const ns = `rbb-${ctx.id}-${key}`.slice(0, 63);
  await ctx.kube.ensureNamespace(ns);
  const runner = new AppRunner(ctx.distDir, ctx.runDir, ctx.appEnv, ctx.basePort + 20 * Object.keys(p.steady).indexOf(key) + 100, ctx.nodeFlags, ctx.node.binary);
  const sampler = new ProcSampler(() => runner.procs());
  const cpuStart = machineCpuSeconds();
  const result: PhaseResult = { registry: driver.label, services: p.services, instances: p.instances, seedSeconds: 0, warmSyncSeconds: 0, peakRssMiB: {}, machine: { loadStart: loadAverage(), loadEnd: [], busyPercent: NaN } };
  const tracker = new Tracker(ctx.kube, ns, p.services, p.instances, driver.spareInstances);
  let writer!: RunningApp;
  let collector!: RunningApp;
  const startApps = async () => {
    writer = await runner.start('writer', writerConfig(ctx, tag, ns, { [driver.source]: driver.writerSource() }), `writer-${key}`);
    collector = await runner.start(driver.collectorApp(), driver.collectorConfig(redisConfig(ctx, tag)), `${driver.collectorApp()}-${key}`);
  };
  try {
    log(`${driver.label}: seeding ${p.services} × ${p.instances}`);
    let t = nowMs();
    await driver.seed(p.services, p.instances, (n) => log(`${driver.label}: ${n} instances registered`));
    result.seedSeconds = round((nowMs() - t) / 1000);
    await tracker.start();
    t = nowMs();
    await startApps();
    sampler.start(1000);
    await tracker.waitInSync(Math.max(120_000, p.services * 200));
    result.warmSyncSeconds = round((nowMs() - t) / 1000, 2);
    log(`${driver.label}: ${p.services} ServiceEntries in sync after ${result.warmSyncSeconds} s (from process start)`);
    const counter = new WriteCounter(ctx, tracker, () => writer);

    if (full && run('idle')) {
      // Idle: let start-up work (snapshots, first heartbeats) pass, then measure nothing happening.
      await sleep(p.preIdleSeconds * 1000);
      const cpu0 = new Map(runner.procs().map((a) => [a.name, sampleProc(a.pid)?.cpuSeconds ?? 0]));
      const r0 = await commandStats(ctx.redis);
      await counter.begin();
      const t0 = Date.now();
      log(`${driver.label}: idle for ${p.idleSeconds} s`);
      await sleep(p.idleSeconds * 1000);
      const secs = (Date.now() - t0) / 1000;
      const r1 = await commandStats(ctx.redis);
      const cpu: Record<string, number> = {};
      for (const a of runner.procs()) cpu[a.name] = round((((sampleProc(a.pid)?.cpuSeconds ?? 0) - (cpu0.get(a.name) ?? 0)) / secs) * 100, 2);
      const rd = statsDelta(r0, r1);
      result.idle = {
        seconds: round(secs),
        cpuPercentOfOneCore: cpu,
        cpuTotalPercent: round(Object.values(cpu).reduce((a, b) => a + b, 0), 2),
        redisCommandsPerSecond: round(rd.total / secs, 2),
        redisTop: Object.fromEntries(Object.entries(rd.top).map(([k, v]) => [k, round(v / secs, 2)])),
        writes: await counter.end(),
      };

    }
    if (full && run('noop')) {
      // Registry events that change nothing.
      await counter.begin();
      const n = Math.min(p.noopEvents, p.services);
      for (let s = 0; s < n; s++) await driver.noop(s, tracker.model[s]);
      await sleep(driver.kind === 'cloudmap' ? 15_000 : 5_000);
      result.noop = { events: n, writes: await counter.end() };
      log(`${driver.label}: no-op events: ${result.noop.writes.apiServer} API server writes (writer ${result.noop.writes.writer})`);

    }
    if (full && run('restart')) {
      // Restart every app (graceful stop, fresh start): nothing may be rewritten.
      await counter.begin();
      await counter.carry();
      await runner.stop(collector);
      await runner.stop(writer);
      t = nowMs();
      await startApps();
      await sleep(p.restartSettleSeconds * 1000);
      result.restart = { writes: await counter.end(), resyncSeconds: round((nowMs() - t) / 1000) };
      log(`${driver.label}: restart: ${result.restart.writes.apiServer} API server writes (writer ${result.restart.writes.writer})`);
    }

    // Steady change rate: latency from the registry's acknowledgement to the watch event.
    const st = p.steady[key];
    if (st && run('steady')) {
      await counter.begin();
      // the writer's own histogram (record observed by the collector -> applied): its share of the latency
      const hist = () => Promise.all(['sum', 'count'].map((x) => scrapeCounter(writer.port, `registry_bridge_propagation_seconds_${x}`)));
      const [sum0, n0] = await hist();
      log(`${driver.label}: ${st.rate} changes/s for ${st.seconds} s`);
      const t0 = nowMs();
      let k = 0;
      const inflight: Array<Promise<unknown>> = [];
      while (nowMs() - t0 < st.seconds * 1000) {
        const due = t0 + (k * 1000) / st.rate;
        const wait = due - nowMs();
        if (wait > 0) await sleep(wait);
        inflight.push(tracker.change(driver).catch((e: Error) => log(`change failed: ${e.message}`)));
        k++;
      }
      await Promise.all(inflight);
      await tracker.waitPending(st.timeoutSeconds * 1000);
      const lost = tracker.dropPending();
      await sleep(2000);
      const writes = await counter.end();
      const [sum1, n1] = await hist();
      const samples = [...tracker.samples];
      tracker.samples.length = 0;
      const byType: Record<string, Summary> = {};
      for (const type of new Set(samples.map((s) => s.type))) byType[type] = summarize(samples.filter((s) => s.type === type).map((s) => s.ms));
      result.latency = { rate: st.rate, seconds: st.seconds, changes: k, lost, writerMeanMs: round(((sum1 - sum0) / Math.max(1, n1 - n0)) * 1000, 1), all: summarize(samples.map((s) => s.ms)), byType, samples, writes, writesPerChange: round(writes.writer / Math.max(1, k - lost), 3) };
      log(`${driver.label}: latency p50 ${round(result.latency.all.p50)} p99 ${round(result.latency.all.p99)} max ${round(result.latency.all.max)} ms (${k} changes, ${lost} lost)`);
    }

    if (full && run('rolling')) {
      // Rolling change: every instance of a few services gets a new version, one after another.
      const count = Math.min(p.rollingInstances, p.services * p.instances);
      await counter.begin();
      const t0 = nowMs();
      for (let c = 0; c < count; c++) {
        const s = p.services - 1 - Math.floor(c / p.instances);
        const slots = tracker.model[s];
        // a new version on the next instance, or (registries that cannot re-register) a new instance
        const i = driver.rolling === 'metadata' ? c % p.instances : slots.findIndex((m) => !m.present);
        if (i < 0) continue;
        const inst = slots[i];
        Object.assign(inst, { present: true, healthy: true, version: driver.rolling === 'metadata' ? inst.version + 1 : inst.version });
        await driver.apply(s, i, 'register', inst);
        await sleep(50);
      }
      let lost = 0;
      try {
        await tracker.waitInSync((st?.timeoutSeconds ?? 60) * 1000);
      } catch {
        lost = p.services - tracker.inSync();
      }
      await sleep(3000);
      const writes = await counter.end();
      result.rolling = { instances: count, seconds: round((nowMs() - t0) / 1000), writes, writesPerChange: round(writes.writer / count, 3), lost };
      log(`${driver.label}: rolling ${count}: ${writes.apiServer} API server writes (writer ${writes.writer})`);
    }
    if (full && run('churn') && p.churnSeconds > 0) {
      // Churn: changes at a steady rate; RSS at the start and the end tells growth from noise.
      {
        const c0 = nowMs();
        const mark = sampler.series;
        const startIdx = new Map([...mark.entries()].map(([k2, v]) => [k2, v.length]));
        let changes = 0;
        while (nowMs() - c0 < p.churnSeconds * 1000) {
          if (tracker.pendingCount < 50) if (await tracker.change(driver).catch(() => false)) changes++;
          await sleep(1000 / p.churnRate);
        }
        await tracker.waitPending(30_000);
        tracker.dropPending();
        tracker.samples.length = 0;
        const startMiB: Record<string, number> = {};
        const endMiB: Record<string, number> = {};
        for (const [name, series] of mark) {
          const part = series.slice(startIdx.get(name) ?? 0);
          const q = Math.max(1, Math.floor(part.length / 5));
          const avg = (xs: Array<{ rssKiB: number }>) => xs.reduce((a, b) => a + b.rssKiB, 0) / xs.length / 1024;
          startMiB[name] = round(avg(part.slice(0, q)));
          endMiB[name] = round(avg(part.slice(-q)));
        }
        result.churn = { seconds: p.churnSeconds, changes, rssStartMiB: startMiB, rssEndMiB: endMiB, growthMiB: Object.fromEntries(Object.keys(endMiB).map((k2) => [k2, round(endMiB[k2] - startMiB[k2])])) };
      }
    }
  } finally {
    sampler.stop();
    const cpuEnd = machineCpuSeconds();
    result.machine.loadEnd = loadAverage();
    result.machine.busyPercent = round(((cpuEnd.busy - cpuStart.busy) / (cpuEnd.total - cpuStart.total)) * 100, 1);
    for (const [name, kib] of sampler.peakKiB) result.peakRssMiB[name.replace(`-${key}`, '')] = round(kib / 1024);
    tracker.stop();
    await runner.stopAll();
    log(`${driver.label}: cleaning up`);
    await driver.cleanup().catch((e: Error) => log(`cleanup ${driver.label}: ${e.message}`));
    await ctx.kube.cleanNamespace(ns).catch(() => undefined);
    await dropRedisPrefix(ctx.redis, redisConfig(ctx, tag).prefix);
  }
  return result;
}
