import { RedisResetDetector } from './redis-reset-detector';

class MemRedis {
  data = new Map<string, string>();
  down = false;
  async get(k: string) {
    if (this.down) throw new Error('down');
    return this.data.get(k) ?? null;
  }
  async set(k: string, v: string) {
    if (this.down) throw new Error('down');
    if (this.data.has(k)) return null;
    this.data.set(k, v);
    return 'OK' as const;
  }
}

describe('RedisResetDetector', () => {
  it('mints an epoch at first, reports nothing while it stays, and a reset when it vanishes', async () => {
    const redis = new MemRedis();
    const d = new RedisResetDetector(redis, '{rb}', 1000);
    const resets = jest.fn();
    d.on('reset', resets);
    expect(await d.check()).toBe(false);
    expect(redis.data.get('{rb}:collector:epoch')).toMatch(/^[0-9a-f]{16}$/);
    expect(await d.check()).toBe(false);
    redis.down = true;
    expect(await d.check()).toBe(false); // unreachable proves nothing
    redis.down = false;
    redis.data.clear(); // came back empty
    expect(await d.check()).toBe(true);
    expect(await d.check()).toBe(false);
    expect(resets).toHaveBeenCalledTimes(1);
  });

  it('a second replica sees the epoch the first one minted after a reset as a reset too', async () => {
    const redis = new MemRedis();
    const a = new RedisResetDetector(redis, '{rb}', 1000);
    const b = new RedisResetDetector(redis, '{rb}', 1000);
    await a.check();
    await b.check();
    redis.data.clear();
    expect(await a.check()).toBe(true);
    expect(await b.check()).toBe(true);
  });
});
