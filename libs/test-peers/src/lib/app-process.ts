// A built app (dist/apps/*/main.js) as a real process for integration tests: its own config file,
// its output kept in memory (and in a log file when asked), its HTTP endpoints at hand.
import { ChildProcess, spawn } from 'node:child_process';
import { appendFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface AppProcessOptions {
  /** For messages: "writer", "collector-consul". */
  name: string;
  /** The built main.js. */
  main: string;
  /** The HTTP port the app listens on (its config says so, or RB__http__port in `env`). */
  port: number;
  configFile: string;
  env?: NodeJS.ProcessEnv;
  /** Also append the output here (a spec that greps logs reads it). */
  logFile?: string;
  /** How long start() waits for /health/live; a loaded 2-core CI machine is slow to boot Nest. */
  startTimeoutMs?: number;
}

/** Writes `text` to a new file in a fresh temporary folder and returns its path. */
export function writeTempFile(prefix: string, text: string, fileName = 'config.yaml'): string {
  const file = join(mkdtempSync(join(tmpdir(), prefix)), fileName);
  writeFileSync(file, text);
  return file;
}

export class AppProcess {
  readonly logs: string[] = [];
  proc!: ChildProcess;
  readonly base: string;

  readonly name: string;
  readonly port: number;
  readonly configFile: string;

  constructor(private readonly options: AppProcessOptions) {
    this.name = options.name;
    this.port = options.port;
    this.configFile = options.configFile;
    this.base = `http://127.0.0.1:${options.port}`;
  }

  /** Starts (or restarts) the process and waits until /health/live answers. */
  async start(): Promise<this> {
    const { main, env, configFile, logFile } = this.options;
    const proc = spawn(process.execPath, [main], { env: { ...process.env, ...env, RB_CONFIG_FILE: configFile }, stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc = proc;
    const keep = (b: Buffer) => {
      const s = b.toString();
      this.logs.push(s);
      if (this.logs.length > 3000) this.logs.splice(0, 1000);
      if (logFile) appendFileSync(logFile, s);
    };
    proc.stdout?.on('data', keep);
    proc.stderr?.on('data', keep);
    const deadline = Date.now() + (this.options.startTimeoutMs ?? 60_000);
    for (;;) {
      if (proc.exitCode !== null) throw new Error(`${this.name} exited ${proc.exitCode}: ${this.tail()}`);
      if (await this.get('/health/live').then((r) => r.status === 200, () => false)) return this;
      if (Date.now() > deadline) throw new Error(`${this.name} did not listen on ${this.port}: ${this.tail()}`);
      await new Promise((r) => setTimeout(r, 150));
    }
  }

  alive(): boolean {
    return !!this.proc && this.proc.exitCode === null && this.proc.signalCode === null;
  }

  /** Stops the process and waits for its exit; one that ignores SIGTERM is killed after 10 s. */
  stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    return new Promise((done) => {
      if (!this.alive()) return done();
      this.proc.once('exit', () => done());
      this.proc.kill(signal);
      if (signal !== 'SIGKILL') setTimeout(() => this.alive() && this.proc.kill('SIGKILL'), 10_000).unref();
    });
  }

  tail(chars = 4000): string {
    return this.logs.join('').slice(-chars);
  }

  async get(path: string): Promise<{ status: number; text: string }> {
    const r = await fetch(`${this.base}${path}`);
    return { status: r.status, text: await r.text() };
  }

  async json<T = Record<string, unknown>>(path: string): Promise<T> {
    return JSON.parse((await this.get(path)).text) as T;
  }

  ready(): Promise<{ status: number; text: string }> {
    return this.get('/health/ready');
  }

  /** Sum of the samples of a metric whose labels include `labels`. */
  async metric(name: string, labels: Record<string, string> = {}): Promise<number> {
    let sum = 0;
    for (const line of (await this.get('/metrics')).text.split('\n')) {
      if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
      if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) sum += Number(line.split(' ').pop());
    }
    return sum;
  }
}
