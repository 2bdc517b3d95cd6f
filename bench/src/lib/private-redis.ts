// A Redis of the bench's own (scripts/peers/redis.sh in its private-instance mode: the peers'
// redis-server binary, in memory, on loopback): the peers' Redis is shared with every other test run
// on the machine, and INFO commandstats cannot tell whose commands it counted (Redis 7.0 keeps no
// per-client command count).
import { PrivateRedis as ScriptRedis } from '@registry-bridge/test-peers';

export class PrivateRedis {
  private readonly redis: ScriptRedis;
  /** The redis-server's pid once started (its CPU is sampled from /proc). */
  pid?: number;

  constructor(readonly port: number) {
    this.redis = new ScriptRedis({ port });
  }

  get url(): string {
    return this.redis.url;
  }

  async start(): Promise<void> {
    await this.redis.start();
    this.pid = this.redis.pid();
  }

  /** Synchronous: also called from the process's exit handler. */
  stop(): void {
    this.redis.stop();
  }
}
