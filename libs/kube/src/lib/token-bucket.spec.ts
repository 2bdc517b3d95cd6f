import { TokenBucket } from './token-bucket';

describe('TokenBucket', () => {
  it('lets a burst through at once, then paces at qps', async () => {
    jest.useFakeTimers();
    let t = 0;
    const bucket = new TokenBucket(10, 3, () => t);
    const granted: number[] = [];
    const all = Array.from({ length: 6 }, (_, i) => bucket.take().then(() => granted.push(i)));
    await Promise.resolve();
    await Promise.resolve();
    expect(granted).toEqual([0, 1, 2]);
    for (let step = 0; step < 3; step++) {
      t += 100;
      await jest.advanceTimersByTimeAsync(100);
    }
    await Promise.all(all);
    expect(granted).toEqual([0, 1, 2, 3, 4, 5]);
    jest.useRealTimers();
  });

  it('rejects a nonsense configuration', () => {
    expect(() => new TokenBucket(0, 1)).toThrow(/invalid rate limit/);
  });
});

describe('MicroTime', () => {
  it('serializes with the six fractional digits the API server requires', async () => {
    const { MicroTime } = await import('./lease-elector');
    expect(new MicroTime(Date.UTC(2026, 0, 2, 3, 4, 5, 678)).toISOString()).toBe('2026-01-02T03:04:05.678000Z');
  });
});
