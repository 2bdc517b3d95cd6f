// registry-bridge benchmarks against the real peers (see BENCHMARKS.md).
//   npx nx run bench:bench                      full profile, every measurement (~30 min)
//   npx nx run bench:bench -- --only consul     one measurement (consul|eureka|eureka-cached|cloudmap|cold-sync|throughput)
//   npx nx run bench:bench-ci                   small profile, under ~3 minutes
// Options: --profile full|ci, --only a,b, --dist <dir of built apps>, --cpu-prof (profiles of the apps
// into the run directory), --max-minutes N (hard bound of the whole run), --churn-seconds N,
// --idle-seconds N, --node-flags max-old-space-size=96,max-semi-space-size=2 (V8 flags for every app; the
// leading dashes are optional so that nx forwards the value, or RB_BENCH_NODE_FLAGS="--a --b"), --skip idle,noop,restart,steady,rolling,churn (steps of a registry phase), --shared-redis (use the peers' Redis instead of a private redis-server),
// --node BIN[=CHECKOUT][,BIN[=CHECKOUT]] (the node binaries that run the apps, or RB_BENCH_NODE; a
// checkout gives that runtime other built apps, its dist/apps with its node_modules, e.g. an older
// commit whose dependencies need an older Node; with several, every measurement runs once per
// runtime, interleaved, and each row names its runtime).
import { loadPeersEnv } from '@registry-bridge/test-peers';
import { Redis } from 'ioredis';
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { killAllChildren } from './lib/apps';
import { KubeAdmin } from './lib/kube';
import { machineInfo } from './lib/machine';
import { loadAverage, machineCpuSeconds } from './lib/proc';
import { PrivateRedis } from './lib/private-redis';
import { PROFILES } from './lib/profiles';
import { apiWrites, fmtMs, latencySvg, Row, table, verdict } from './lib/report';
import { log, round, until } from './lib/util';
import { CloudMapDriver } from './registries/cloudmap';
import { ConsulDriver } from './registries/consul';
import { EurekaDriver } from './registries/eureka';
import { RegistryDriver } from './registries/registry';
import { BenchContext } from './scenarios/context';
import { coldSync, ColdSyncResult } from './scenarios/cold-sync';
import { PhaseResult, registryPhase } from './scenarios/registry-phase';
import { throughput, ThroughputResult } from './scenarios/throughput';

const WORKSPACE = resolve(__dirname, '../..');
const ALL = ['consul', 'eureka', 'eureka-cached', 'cloudmap', 'cold-sync', 'throughput'] as const;
const EUREKA_CACHE_SECONDS = 30; // the cached peer runs Eureka's shipped response-cache period

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  if (i >= 0) return process.argv[i + 1];
  return process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
}

/** `a=1,b=2` or `--a=1 --b=2`: nx takes a value that starts with dashes for a flag of its own. */
function nodeFlagsArg(): string[] {
  const raw = arg('node-flags') ?? process.env['RB_BENCH_NODE_FLAGS'] ?? '';
  return raw
    .split(/[\s,]+/)
    .filter(Boolean)
    .map((f) => (f.startsWith('--') ? f : `--${f}`));
}

interface Runtime {
  binary: string;
  version: string;
  /** A checkout whose dist/apps and node_modules this runtime runs, instead of the workspace's. */
  checkout?: string;
}

/** The node binaries that run the apps, with their versions; the bench's own node by default. */
function runtimesArg(): Runtime[] {
  const raw = arg('node') ?? process.env['RB_BENCH_NODE'] ?? process.execPath;
  return raw
    .split(',')
    .filter(Boolean)
    .map((spec) => {
      const [binary, checkout] = spec.split('=');
      const bin = resolve(binary);
      try {
        return { binary: bin, version: execFileSync(bin, ['--version'], { encoding: 'utf8' }).trim(), checkout: checkout && resolve(checkout) };
      } catch (err) {
        throw new Error(`--node ${binary}: not a runnable node binary (${(err as Error).message})`);
      }
    });
}

async function main(): Promise<void> {
  const base = PROFILES[(arg('profile') ?? 'full') as 'full' | 'ci'];
  if (!base) throw new Error('--profile must be full or ci');
  const profile = { ...base };
  if (arg('churn-seconds')) profile.churnSeconds = Number(arg('churn-seconds'));
  if (arg('idle-seconds')) profile.idleSeconds = Number(arg('idle-seconds'));
  const only = arg('only')?.split(',').filter(Boolean);
  const selected = (only ?? (profile.name === 'ci' ? ['consul', 'eureka', 'cloudmap', 'cold-sync', 'throughput'] : [...ALL])) as string[];
  for (const s of selected) if (!(ALL as readonly string[]).includes(s)) throw new Error(`--only: unknown measurement ${s} (one of ${ALL.join(', ')})`);
  const runtimes = runtimesArg();
  const maxMinutes = Number(arg('max-minutes') ?? (profile.name === 'ci' ? 5 : 45) * runtimes.length);
  const watchdog = setTimeout(() => {
    log(`run exceeded ${maxMinutes} minutes: stopping`);
    killAllChildren();
    process.exit(2);
  }, maxMinutes * 60_000);
  watchdog.unref();
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => (killAllChildren(), process.exit(130)));

  const peers = await loadPeersEnv({ peers: ['redis', 'kube', 'consul', 'eureka', 'eurekaCached', 'cloudMap'] });
  const builtDir = resolve(arg('dist') ?? join(WORKSPACE, 'dist/apps'));
  const id = Date.now().toString(36).slice(-6);
  const runDir = mkdtempSync(join(tmpdir(), `rb-bench-${id}-`));
  // A copy of the built apps: dist/ is shared, and a rebuild in the middle of a run would swap
  // (or, while webpack cleans, remove) the code under measurement.
  const distDir = join(runDir, 'dist');
  const apps = ['writer', 'collector-consul', 'collector-eureka', 'collector-cloudmap'];
  await until(`the built apps in ${builtDir} (npx nx run-many -t build -p ${apps.join(',')})`, () => apps.every((a) => existsSync(join(builtDir, a, 'main.js'))), 180_000, 1000);
  for (const app of apps) cpSync(join(builtDir, app), join(distDir, app), { recursive: true });
  const runtimeDist = runtimes.map((rt, r) => {
    if (!rt.checkout) return { distDir, nodePath: join(WORKSPACE, 'node_modules') };
    const dir = join(runDir, `dist-${r}`);
    for (const app of apps) {
      if (!existsSync(join(rt.checkout, 'dist/apps', app, 'main.js'))) throw new Error(`--node ${rt.binary}=${rt.checkout}: no dist/apps/${app}/main.js there`);
      cpSync(join(rt.checkout, 'dist/apps', app), join(dir, app), { recursive: true });
    }
    return { distDir: dir, nodePath: join(rt.checkout, 'node_modules') };
  });
  // --shared-redis uses the peers' Redis (its command counts then include other users')
  const basePort = 21000 + Math.floor(Math.random() * 2000);
  const privateRedis = process.argv.includes('--shared-redis') ? undefined : new PrivateRedis(basePort - 1);
  await privateRedis?.start();
  const redisUrl = privateRedis?.url ?? peers.redisUrl;
  process.on('exit', () => privateRedis?.stop());
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const ctx: BenchContext = {
    id,
    profile,
    kube: new KubeAdmin(peers.kube.server, peers.raw['RB_KUBE_ADMIN_TOKEN'], peers.raw['RB_KUBE_CA_FILE']),
    redis,
    redisUrl,
    kubeconfig: peers.kube.adminKubeconfig,
    distDir,
    runDir,
    // the copied bundles resolve their dependencies from the workspace
    node: runtimes[0],
    appEnv: { NODE_PATH: join(WORKSPACE, 'node_modules'), AWS_ACCESS_KEY_ID: peers.cloudMap.accessKeyId, AWS_SECRET_ACCESS_KEY: peers.cloudMap.secretAccessKey, AWS_REGION: peers.cloudMap.region },
    nodeFlags: [...(process.argv.includes('--cpu-prof') ? ['--cpu-prof', `--cpu-prof-dir=${join(runDir, 'profiles')}`] : []), ...nodeFlagsArg()],
    basePort,
    redisPid: privateRedis?.pid,
    skip: new Set(arg('skip')?.split(',') ?? []),
  };
  const machine = { ...machineInfo(WORKSPACE, builtDir), appsNode: runtimes.map((r) => `${r.version}${r.checkout ? ` (${basename(r.checkout)})` : ''}`) };
  log(`profile ${profile.name}: ${selected.join(', ')}; apps on ${machine.appsNode.join(' and ')}; run dir ${runDir} (app configs and logs); load average ${machine.loadAverageAtStart.join(' ')}`);
  const cpu0 = machineCpuSeconds();
  const started = Date.now();
  const consul = (prefix: string) => new ConsulDriver(peers.consul.addr, `consul-${prefix}`, prefix);
  const phases: Record<string, PhaseResult> = {};
  const errors: Record<string, string> = {};
  const colds: Record<string, ColdSyncResult> = {};
  const tputs: Record<string, ThroughputResult> = {};
  const drivers: Record<string, (pre: string) => RegistryDriver> = {
    consul: (pre) => consul(`${pre}c`),
    // poll every second: the collector's default (10 s) would dominate a 1.5 s target
    eureka: (pre) => new EurekaDriver(peers.eureka.url, `eureka-${pre}`, `${pre}e`, 'eureka (cache off)', { pollIntervalSeconds: 1 }),
    'eureka-cached': (pre) => new EurekaDriver(peers.eureka.cachedUrl, `eureka-${pre}k`, `${pre}k`, 'eureka (cache on)', { pollIntervalSeconds: 1 }),
    // moto ignores ListServices' namespace filter, so the collector places every service with
    // GetService (verifyServiceNamespace); its default budget (2/s) would make a 1,000-service warm
    // sync take 8 minutes. Revision and health cadences stay at their defaults.
    cloudmap: (pre) => new CloudMapDriver(peers.cloudMap, `cloudmap-${pre}`, `${pre}m`, { budget: { GetService: { rps: 100, burst: 100 } } }),
  };
  // With several runtimes each measurement runs once per runtime, the order alternating from one
  // measurement to the next, so that the load of other users of the machine falls on both alike.
  const several = runtimes.length > 1;
  for (const [i, m] of selected.entries()) {
    const order = i % 2 ? [...runtimes.keys()].reverse() : [...runtimes.keys()];
    for (const r of order) {
      const rt = runtimes[r];
      const label = `${rt.version}${rt.checkout ? ` (${basename(rt.checkout)})` : ''}`;
      const key = several ? `${m} @ ${label}` : m;
      const pre = `b${id}${several ? r : ''}`;
      ctx.node = rt;
      // its own namespaces, Redis prefix and Lease: a phase's namespace stays Terminating after it
      ctx.id = several ? `${id}${r}` : id;
      ctx.distDir = runtimeDist[r].distDir;
      ctx.appEnv = { ...ctx.appEnv, NODE_PATH: runtimeDist[r].nodePath };
      const t = Date.now();
      try {
        if (drivers[m]) phases[key] = await registryPhase(ctx, drivers[m](pre), m, profile.fullPhase.includes(m));
        else if (m === 'cold-sync') colds[key] = await coldSync(ctx, consul(`${pre}x`), profile.coldServices);
        else if (m === 'throughput') tputs[key] = await throughput(ctx, profile.throughputRecords);
      } catch (err) {
        errors[key] = (err as Error).message;
        log(`${key} failed: ${(err as Error).stack}`);
      }
      log(`${key} took ${round((Date.now() - t) / 1000)} s`);
    }
  }
  const cpu1 = machineCpuSeconds();

  const rows = buildRows(phases, colds, tputs, profile.services, profile.instances);
  for (const [m, e] of Object.entries(errors)) rows.push({ measure: 'error', registry: m, value: e.slice(0, 120), target: '-', verdict: 'FAILED' });
  const result = {
    benchmark: 'registry-bridge',
    profile: profile.name,
    selected,
    startedAt: new Date(started).toISOString(),
    durationSeconds: round((Date.now() - started) / 1000),
    redis: privateRedis ? 'private redis-server of the bench' : 'the peers\' shared Redis',
    machine: { ...machine, loadAverageAtEnd: loadAverage(), machineBusyPercentDuringRun: round(((cpu1.busy - cpu0.busy) / (cpu1.total - cpu0.total)) * 100, 1) },
    config: profile,
    rows,
    phases: Object.fromEntries(Object.entries(phases).map(([k, v]) => [k, { ...v, latency: v.latency && { ...v.latency, samples: v.latency.samples.map((s) => [s.type, round(s.ms, 2)]) } }])),
    coldSync: several ? colds : colds['cold-sync'],
    throughput: several ? tputs : tputs['throughput'],
    errors,
  };
  const outDir = join(WORKSPACE, 'bench/results');
  mkdirSync(outDir, { recursive: true });
  const name = only ? `${profile.name}-${selected.join('+')}` : profile.name;
  writeFileSync(join(outDir, `${name}.json`), `${JSON.stringify(result, null, 1)}\n`);
  const series = Object.entries(phases)
    .filter(([, v]) => v.latency)
    .map(([k, v]) => ({ name: `${v.registry}${splitKey(k).rt}`, ms: v.latency?.samples.map((s) => s.ms) ?? [] }));
  if (series.length) writeFileSync(join(outDir, `${name}-latency.svg`), latencySvg(series, `registry-bridge propagation latency (${profile.name}: ${profile.services} services × ${profile.instances}, ${machine.nproc} cores, load ${machine.loadAverageAtStart[0]})`));
  process.stdout.write(`\n${table(rows)}\n\nmachine: ${machine.nproc} cores, ${machine.memoryGiB} GiB, node ${machine.node} (apps: ${machine.appsNode.join(', ')}), load average ${machine.loadAverageAtStart.join(' ')} → ${result.machine.loadAverageAtEnd.join(' ')}, machine busy ${result.machine.machineBusyPercentDuringRun}% during the run\nresults: bench/results/${name}.json${series.length ? `, bench/results/${name}-latency.svg` : ''}\n`);
  await redis.quit();
  privateRedis?.stop();
  clearTimeout(watchdog);
  process.exit(Object.keys(errors).length ? 1 : 0);
}

/** `consul @ v24.22.3` → the measurement and the runtime suffix of its rows (none with one runtime). */
function splitKey(key: string): { m: string; rt: string } {
  const [m, version] = key.split(' @ ');
  return { m, rt: version ? ` @ ${version}` : '' };
}

function buildRows(phases: Record<string, PhaseResult>, colds: Record<string, ColdSyncResult>, tputs: Record<string, ThroughputResult>, services: number, instances: number): Row[] {
  const rows: Row[] = [];
  const latencyTargets: Record<string, Array<[string, 'p50' | 'p99', number]>> = {
    consul: [
      ['p50', 'p50', 20],
      ['p99', 'p99', 100],
    ],
    eureka: [['p99', 'p99', 1500]],
    'eureka-cached': [['p99', 'p99', EUREKA_CACHE_SECONDS * 1000 + 1500]],
    cloudmap: [['p99', 'p99', 1500]],
  };
  for (const [key, p] of Object.entries(phases)) {
    const { m: k, rt } = splitKey(key);
    const registry = `${p.registry}${rt}`;
    if (p.latency) {
      rows.push({ measure: `latency ${services}×${instances}, ${p.latency.rate}/s`, registry, value: fmtMs(p.latency.all), target: latencyTargets[k].map(([n, , v]) => `${n} ≤ ${v} ms`).join(', '), verdict: latencyTargets[k].map(([, f, v]) => verdict(p.latency?.all[f] ?? NaN, v, ' ms')).join(', ') });
      rows.push({ measure: '  writer share (observedAt → applied, mean)', registry, value: `${p.latency.writerMeanMs} ms of a ${round(p.latency.all.mean)} ms mean`, target: '', verdict: '' });
      for (const [type, s] of Object.entries(p.latency.byType)) rows.push({ measure: `  latency: ${type}`, registry, value: fmtMs(s), target: '', verdict: '' });
      if (p.latency.lost) rows.push({ measure: '  changes not seen in time', registry, value: String(p.latency.lost), target: '0', verdict: 'MISS' });
      rows.push({ measure: '  writes per change (steady run)', registry, value: `${p.latency.writesPerChange} (${apiWrites(p.latency.writes)}, writer ${p.latency.writes.writer}, ${p.latency.changes} changes)`, target: '≤ 1.0', verdict: verdict(p.latency.writesPerChange, 1) });
    }
    if (p.rolling) rows.push({ measure: `writes per change, rolling ${p.rolling.instances}`, registry, value: `${p.rolling.writesPerChange} (${apiWrites(p.rolling.writes)}, writer ${p.rolling.writes.writer})`, target: '≤ 1.0', verdict: verdict(p.rolling.writesPerChange, 1) });
    if (p.idle) {
      rows.push({ measure: `writes while idle ${p.idle.seconds} s`, registry, value: `${apiWrites(p.idle.writes)}, writer ${p.idle.writes.writer}`, target: '0', verdict: verdict(p.idle.writes.writer, 0) + (p.idle.writes.apiServer !== p.idle.writes.writer ? ' (api counts other users too)' : '') });
      rows.push({ measure: `idle CPU, ${services} services`, registry, value: `${p.idle.cpuTotalPercent}% of a core (${Object.entries(p.idle.cpuPercentOfOneCore).map(([a, v]) => `${a.replace(/-[a-z-]+$/, '')} ${v}%`).join(', ')})`, target: '≤ 2%', verdict: verdict(p.idle.cpuTotalPercent, 2, '%') });
      rows.push({ measure: 'idle Redis commands/s', registry, value: `${p.idle.redisCommandsPerSecond} (${Object.entries(p.idle.redisTop).slice(0, 3).map(([c, v]) => `${c} ${v}`).join(', ')})`, target: '≤ 20', verdict: verdict(p.idle.redisCommandsPerSecond, 20) });
    }
    if (p.noop) rows.push({ measure: `writes after ${p.noop.events} no-op events`, registry, value: `${apiWrites(p.noop.writes)}, writer ${p.noop.writes.writer}`, target: '0', verdict: verdict(p.noop.writes.writer, 0) });
    if (p.restart) rows.push({ measure: 'writes after restarting every app', registry, value: `${apiWrites(p.restart.writes)}, writer ${p.restart.writes.writer} (${p.restart.resyncSeconds} s)`, target: '0', verdict: verdict(p.restart.writes.writer, 0) });
    rows.push({ measure: `warm sync ${services}×${instances}`, registry, value: `${p.warmSyncSeconds} s (seed ${p.seedSeconds} s; load ${p.machine.loadStart[0]}→${p.machine.loadEnd[0]}, machine ${p.machine.busyPercent}% busy)`, target: '-', verdict: '' });
    rows.push({ measure: `peak RSS ${services}×${instances}`, registry, value: Object.entries(p.peakRssMiB).map(([a, v]) => `${a} ${v} MiB`).join(', '), target: '≤ 128 MiB', verdict: verdict(Math.max(...Object.values(p.peakRssMiB)), 128, ' MiB') });
    if (p.churn) rows.push({ measure: `RSS growth, churn ${p.churn.seconds} s`, registry, value: Object.entries(p.churn.growthMiB).map(([a, v]) => `${a.replace(/-[a-z]+$/, '')} ${v > 0 ? '+' : ''}${v} MiB`).join(', '), target: 'no growth', verdict: '' });
  }
  for (const [key, cold] of Object.entries(colds)) {
    const registry = `${cold.registry}${splitKey(key).rt}`;
    rows.push({ measure: `cold sync ${cold.services}×${cold.instances}`, registry, value: `${cold.seconds} s (first object ${cold.firstObjectSeconds} s; ${cold.apiServerWrites} writes, ${cold.statusWrites} istiod status writes; qps ${cold.writer.qps}, concurrency ${cold.writer.concurrency})`, target: '≤ 30 s', verdict: verdict(cold.seconds, 30, ' s') });
    rows.push({ measure: '  requests refused (429)', registry, value: String(cold.refused429), target: '0', verdict: verdict(cold.refused429, 0) });
    rows.push({ measure: `peak RSS ${cold.services}×${cold.instances}`, registry, value: Object.entries(cold.peakRssMiB).map(([a, v]) => `${a} ${v} MiB`).join(', '), target: '≤ 128 MiB', verdict: verdict(Math.max(...Object.values(cold.peakRssMiB)), 128, ' MiB') });
  }
  for (const [key, tput] of Object.entries(tputs)) {
    for (const p of tput.passes) {
      rows.push({ measure: `queue throughput (${p.pass}), stub API`, registry: `writer${splitKey(key).rt}`, value: `ingest ${p.ingestPerSecond}/s, reconcile ${p.reconcilePerSecond}/s (${p.records} records, ${p.redisCommandsPerRecord} Redis cmds/record, writer CPU ${p.writerCpuPercent}%, redis-server CPU ${p.redisServerCpuPercent ?? '?'}%)`, target: 'ceiling', verdict: '' });
    }
  }
  return rows;
}

main().catch((err: Error) => {
  log(err.stack ?? err.message);
  killAllChildren();
  process.exit(1);
});
