// A Redis of the bench's own (the peers' redis-server binary, in memory, on loopback): the peers'
// Redis is shared with every other test run on the machine, and INFO commandstats cannot tell
// whose commands it counted (Redis 7.0 keeps no per-client command count).
import { ChildProcess, spawn } from 'node:child_process';
import { Redis } from 'ioredis';
import { sleep } from './util';

export class PrivateRedis {
  private proc?: ChildProcess;

  constructor(readonly port: number) {}

  get pid(): number | undefined {
    return this.proc?.pid;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    this.proc = spawn('redis-server', ['--bind', '127.0.0.1', '--port', String(this.port), '--save', '', '--appendonly', 'no', '--protected-mode', 'yes'], { stdio: 'ignore' });
    for (let i = 0; i < 100; i++) {
      const r = new Redis(this.url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
      const ok = await r.connect().then(() => r.ping()).then(() => true, () => false);
      r.disconnect();
      if (ok) return;
      if (this.proc.exitCode !== null) throw new Error(`redis-server exited with ${this.proc.exitCode} (port ${this.port} taken?)`);
      await sleep(100);
    }
    throw new Error('redis-server did not answer');
  }

  stop(): void {
    this.proc?.kill('SIGTERM');
  }
}
