// Test helper: runs the built collector (dist/apps/collector-cloudmap/main.js) as a real process.
import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const MAIN_JS = resolve(__dirname, '../../../../dist/apps/collector-cloudmap/main.js');

export interface CollectorProcess {
  logs: string[];
  get(path: string): Promise<{ status: number; body: string }>;
  /** Sum of the samples of a metric whose labels include `labels`. */
  metric(name: string, labels?: Record<string, string>): Promise<number>;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

export function writeConfig(text: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'rb-collector-cloudmap-')), 'config.yaml');
  writeFileSync(file, text);
  return file;
}

export async function startCollector(configFile: string, port: number, env: NodeJS.ProcessEnv = {}): Promise<CollectorProcess> {
  const proc: ChildProcess = spawn(process.execPath, [MAIN_JS], { env: { ...process.env, ...env, RB_CONFIG_FILE: configFile }, stdio: ['ignore', 'pipe', 'pipe'] });
  const logs: string[] = [];
  proc.stdout?.on('data', (b: Buffer) => logs.push(b.toString()));
  proc.stderr?.on('data', (b: Buffer) => logs.push(b.toString()));
  const base = `http://127.0.0.1:${port}`;
  const get = async (path: string) => {
    const r = await fetch(`${base}${path}`);
    return { status: r.status, body: await r.text() };
  };
  const deadline = Date.now() + 60000; // start-up only: a loaded CI machine is slow to boot Nest
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`collector exited ${proc.exitCode}: ${logs.join('').slice(-2000)}`);
    if (await get('/health/live').then((r) => r.status === 200, () => false)) break;
    if (Date.now() > deadline) throw new Error(`collector did not listen on ${port}: ${logs.join('').slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    logs,
    get,
    async metric(name, labels = {}) {
      let sum = 0;
      for (const line of (await get('/metrics')).body.split('\n')) {
        if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
        if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) sum += Number(line.split(' ').pop());
      }
      return sum;
    },
    kill(signal = 'SIGTERM') {
      return new Promise((done) => {
        if (proc.exitCode !== null || proc.signalCode !== null) return done();
        proc.once('exit', () => done());
        proc.kill(signal);
      });
    },
  };
}
