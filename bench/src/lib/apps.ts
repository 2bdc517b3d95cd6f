// Starts the real, built apps (dist/apps/<app>/main.js) as separate processes with the bench's
// config files, and reads their Prometheus metrics.
import { ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { sleep, until } from './util';

export type AppName = 'writer' | 'collector-consul' | 'collector-eureka' | 'collector-cloudmap';

export interface RunningApp {
  name: AppName;
  label: string;
  proc: ChildProcess;
  pid: number;
  port: number;
  logFile: string;
}

/** Every process the bench started, so an interrupted or timed-out run leaves none behind. */
const children = new Set<ChildProcess>();
export function killAllChildren(): void {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
}

export class AppRunner {
  readonly running: RunningApp[] = [];
  private nextPort: number;

  constructor(
    private readonly distDir: string,
    private readonly runDir: string,
    private readonly extraEnv: Record<string, string>,
    basePort: number,
    /** Extra node flags (e.g. --cpu-prof) for profiling runs. */
    private readonly nodeFlags: string[] = [],
    /** The node binary that runs the apps (the bench's own by default). */
    private readonly nodeBinary: string = process.execPath,
  ) {
    this.nextPort = basePort;
  }

  async start(name: AppName, config: Record<string, unknown>, label: string = name): Promise<RunningApp> {
    const port = this.nextPort++;
    const cfgFile = join(this.runDir, `${label}.yaml`);
    // only the writer has a log level key; collectors log at info
    writeFileSync(cfgFile, stringify({ ...config, http: { port, host: '127.0.0.1' }, ...(name === 'writer' ? { log: { level: 'warn' } } : {}) }));
    const logFile = join(this.runDir, `${label}.log`);
    const out = createWriteStream(logFile, { flags: 'a' });
    const proc = spawn(this.nodeBinary, [...this.nodeFlags, join(this.distDir, name, 'main.js')], {
      env: { ...process.env, ...this.extraEnv, RB_CONFIG_FILE: cfgFile, NODE_ENV: 'production' },
      stdio: ['ignore', 'pipe', 'pipe'],
      cwd: this.runDir,
    });
    children.add(proc);
    proc.once('exit', () => children.delete(proc));
    proc.stdout?.pipe(out);
    proc.stderr?.pipe(out);
    const app: RunningApp = { name, label, proc, pid: proc.pid ?? -1, port, logFile };
    this.running.push(app);
    await until(`${label} /health/live`, async () => {
      if (proc.exitCode !== null) throw new Error(`${label} exited with ${proc.exitCode}; see ${logFile}`);
      return fetch(`http://127.0.0.1:${port}/health/live`).then((r) => r.ok).catch(() => false);
    }, 60_000, 250);
    return app;
  }

  /** Graceful stop (SIGTERM: the writer releases its Lease), SIGKILL after 15 s. */
  async stop(app: RunningApp): Promise<void> {
    const i = this.running.indexOf(app);
    if (i >= 0) this.running.splice(i, 1);
    if (app.proc.exitCode !== null || app.proc.signalCode !== null) return;
    const gone = new Promise((r) => app.proc.once('exit', r));
    app.proc.kill('SIGTERM');
    const t = setTimeout(() => app.proc.kill('SIGKILL'), 15_000);
    await gone;
    clearTimeout(t);
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.running].map((a) => this.stop(a)));
  }

  procs(): Array<{ name: string; pid: number }> {
    return this.running.map((a) => ({ name: a.label, pid: a.pid }));
  }
}

/** Sum of a Prometheus counter over series whose labels match `match`. */
export async function scrapeCounter(port: number, metric: string, match: Record<string, string | RegExp> = {}): Promise<number> {
  const text = await fetch(`http://127.0.0.1:${port}/metrics`).then((r) => r.text());
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${metric}{`) && !line.startsWith(`${metric} `)) continue;
    const labels = Object.fromEntries([...line.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    const ok = Object.entries(match).every(([k, v]) => (typeof v === 'string' ? labels[k] === v : v.test(labels[k] ?? '')));
    if (ok) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

/** Writes the writer itself sent (client side), to tell our writes from other users' of a shared API server. */
export const writerWriteRequests = (port: number) => scrapeCounter(port, 'registry_bridge_kube_requests_total', { verb: /^(apply|create|update|delete|patch)$/, kind: /^(ServiceEntry|WorkloadEntry)$/ });

export async function settle(ms: number): Promise<void> {
  await sleep(ms);
}
