import { Logger } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';

/** The ioredis surface the detector needs (Redis or Cluster). */
export interface EpochRedis {
  get(key: string): Promise<string | null>;
  set(key: string, value: string, nx: 'NX'): Promise<'OK' | null>;
}

export const epochKey = (prefix: string) => `${prefix}:collector:epoch`;

/**
 * Notices that Redis lost its data (restarted without persistence, failed over to an empty
 * replica, flushed): a marker key holds a random epoch; when it vanishes or changes, every queued
 * record and the writer's stored state may be gone, while the collector's change tracking still
 * believes them delivered. Listeners then re-send every tracked record and a complete snapshot.
 */
export class RedisResetDetector extends EventEmitter<{ reset: [] }> {
  private known?: string;
  private timer?: NodeJS.Timeout;
  private checking = false;
  private readonly log = new Logger('RedisResetDetector');

  constructor(
    private readonly redis: EpochRedis,
    private readonly prefix: string,
    private readonly everyMs: number,
  ) {
    super();
  }

  start(): void {
    if (this.timer) return;
    void this.check();
    this.timer = setInterval(() => void this.check(), this.everyMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One check; true when a reset was seen (public for tests). */
  async check(): Promise<boolean> {
    if (this.checking) return false;
    this.checking = true;
    try {
      const key = epochKey(this.prefix);
      let epoch = await this.redis.get(key);
      if (epoch === null) {
        // First replica after a reset mints the new epoch; the others read it.
        const mine = randomBytes(8).toString('hex');
        epoch = (await this.redis.set(key, mine, 'NX')) === 'OK' ? mine : await this.redis.get(key);
      }
      if (epoch === null) return false;
      const reset = this.known !== undefined && epoch !== this.known;
      this.known = epoch;
      if (reset) {
        this.log.warn('Redis lost its data (epoch marker changed): re-sending every record and a complete snapshot');
        this.emit('reset');
      }
      return reset;
    } catch {
      // Redis unreachable: nothing to conclude until it answers again.
      return false;
    } finally {
      this.checking = false;
    }
  }
}
