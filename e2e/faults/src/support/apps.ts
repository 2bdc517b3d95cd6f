// The built apps (dist/apps/*/main.js) as real processes, each with its own YAML config; their
// output is kept in memory and in a log file per process (the security spec greps those files).
import { ChildProcess, spawn } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { stringify } from 'yaml';

export const WORKSPACE = resolve(__dirname, '../../../..');
export type AppName = 'writer' | 'collector-consul' | 'collector-cloudmap' | 'collector-eureka';
// RB_FAULTS_DIST: a copy of dist/apps, for a machine where other builds rewrite dist/ meanwhile
export const mainOf = (app: AppName): string => join(process.env['RB_FAULTS_DIST'] ?? join(WORKSPACE, 'dist/apps'), app, 'main.js');

/** One log dir per test run; every app's output lands here too. */
export const RUN_LOG_DIR = process.env['RB_FAULTS_LOG_DIR'] ?? mkdtempSync(join(tmpdir(), 'rb-faults-logs-'));
mkdirSync(RUN_LOG_DIR, { recursive: true });

export function requireBuilt(apps: AppName[]): void {
  const missing = apps.filter((a) => !existsSync(mainOf(a)));
  if (missing.length) throw new Error(`${missing.map(mainOf).join(', ')} missing: run \`npx nx run-many -t build -p ${missing.join(' ')}\` (or \`npx nx fault-test e2e-faults\`, which builds them)`);
}

let nextPort = 21000 + Math.floor(Math.random() * 300) * 10;
/** Ports for this run's apps, spread so parallel runs on the shared machine rarely collide. */
export const port = (): number => nextPort++;

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function until<T>(what: string, fn: () => Promise<T | undefined | false>, ms = 30000, every = 200): Promise<T> {
  const t0 = Date.now();
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v as T;
    } catch (e) {
      last = e;
    }
    if (Date.now() - t0 > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await sleep(every);
  }
}

export class App {
  readonly logs: string[] = [];
  readonly logFile: string;
  proc!: ChildProcess;
  readonly base: string;

  constructor(
    readonly name: AppName,
    readonly port: number,
    readonly configFile: string,
    private readonly env: NodeJS.ProcessEnv,
  ) {
    this.logFile = join(RUN_LOG_DIR, `${name}-${port}.log`);
    this.base = `http://127.0.0.1:${port}`;
  }

  /** Starts (or restarts) the process and waits until /health/live answers. */
  async start(): Promise<this> {
    // a copied dist (RB_FAULTS_DIST) still resolves its externals from the workspace
    const nodePath = join(WORKSPACE, 'node_modules');
    const proc = spawn(process.execPath, [mainOf(this.name)], { env: { ...process.env, NODE_PATH: nodePath, ...this.env, RB_CONFIG_FILE: this.configFile }, stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc = proc;
    const keep = (b: Buffer) => {
      const s = b.toString();
      this.logs.push(s);
      if (this.logs.length > 3000) this.logs.splice(0, 1000);
      appendFileSync(this.logFile, s);
    };
    proc.stdout?.on('data', keep);
    proc.stderr?.on('data', keep);
    const t0 = Date.now();
    for (;;) {
      if (proc.exitCode !== null) throw new Error(`${this.name} exited ${proc.exitCode}: ${this.tail()}`);
      if (await fetch(`${this.base}/health/live`).then((r) => r.ok).catch(() => false)) return this;
      if (Date.now() - t0 > 45000) throw new Error(`${this.name} did not listen on ${this.port}: ${this.tail()}`);
      await sleep(150);
    }
  }

  alive(): boolean {
    return this.proc && this.proc.exitCode === null && this.proc.signalCode === null;
  }

  stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    return new Promise((res) => {
      if (!this.alive()) return res();
      this.proc.once('exit', () => res());
      this.proc.kill(signal);
      if (signal !== 'SIGKILL') setTimeout(() => this.alive() && this.proc.kill('SIGKILL'), 10000).unref();
    });
  }

  tail(n = 4000): string {
    return this.logs.join('').slice(-n);
  }

  async get(path: string): Promise<{ status: number; text: string }> {
    const r = await fetch(`${this.base}${path}`);
    return { status: r.status, text: await r.text() };
  }

  async json<T = Record<string, unknown>>(path: string): Promise<T> {
    return JSON.parse((await this.get(path)).text) as T;
  }

  /** Sum of the samples of a metric whose labels include `labels`. */
  async metric(name: string, labels: Record<string, string> = {}): Promise<number> {
    const text = (await this.get('/metrics')).text;
    let sum = 0;
    for (const line of text.split('\n')) {
      if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
      if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) sum += Number(line.split(' ').pop());
    }
    return sum;
  }
}

export function writeConfig(name: string, cfg: Record<string, unknown>): string {
  const dir = mkdtempSync(join(tmpdir(), `rb-faults-${name}-`));
  const file = join(dir, 'config.yaml');
  writeFileSync(file, stringify(cfg));
  return file;
}

export async function startApp(name: AppName, cfg: Record<string, unknown>, env: NodeJS.ProcessEnv = {}): Promise<App> {
  const p = port();
  const file = writeConfig(name, { ...cfg, http: { port: p, host: '127.0.0.1' } });
  return new App(name, p, file, { LOG_LEVEL: 'info', ...env }).start();
}
