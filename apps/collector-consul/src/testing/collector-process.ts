// Test helper: runs the built collector (dist/apps/collector-consul/main.js) as a real process.
import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const MAIN_JS = resolve(__dirname, '../../../../dist/apps/collector-consul/main.js');

export interface CollectorProcess {
  port: number;
  proc: ChildProcess;
  logs: string[];
  metric(name: string, labels?: Record<string, string>): Promise<number>;
  ready(): Promise<{ status: number; body: string }>;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

export function writeYaml(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'rb-collector-consul-'));
  const file = join(dir, 'config.yaml');
  writeFileSync(file, text);
  return file;
}

export async function startCollector(configFile: string, port: number, env: NodeJS.ProcessEnv = {}): Promise<CollectorProcess> {
  const proc = spawn(process.execPath, [MAIN_JS], { env: { ...process.env, ...env, RB_CONFIG_FILE: configFile, LOG_LEVEL: 'info' }, stdio: ['ignore', 'pipe', 'pipe'] });
  const logs: string[] = [];
  proc.stdout?.on('data', (b: Buffer) => logs.push(b.toString()));
  proc.stderr?.on('data', (b: Buffer) => logs.push(b.toString()));
  const base = `http://127.0.0.1:${port}`;
  const t0 = Date.now();
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`collector exited ${proc.exitCode}: ${logs.join('').slice(-2000)}`);
    try {
      if ((await fetch(`${base}/health/live`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() - t0 > 60000) throw new Error(`collector did not listen on ${port}: ${logs.join('').slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    port,
    proc,
    logs,
    async metric(name, labels = {}) {
      const text = await (await fetch(`${base}/metrics`)).text();
      let sum = 0;
      for (const line of text.split('\n')) {
        if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
        if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) sum += Number(line.split(' ').pop());
      }
      return sum;
    },
    async ready() {
      const r = await fetch(`${base}/health/ready`);
      return { status: r.status, body: await r.text() };
    },
    kill(signal = 'SIGTERM') {
      return new Promise((res) => {
        if (proc.exitCode !== null || proc.signalCode !== null) return res();
        proc.once('exit', () => res());
        proc.kill(signal);
      });
    },
  };
}
