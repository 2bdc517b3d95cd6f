import { cloudMapSourceSchema } from './cloudmap-config.schema';
import { BucketParams, bucketStep, BucketState, LocalRequestBudget, reservationSize, slotTimes } from './request-budget.service';

const p: BucketParams = { rps: 10, burst: 5, minFactor: 0.1, recoveryPerSecond: 0.1 };

/** Books one token at a time and returns when each matures. */
function bookSingles(n: number, now: number, start?: BucketState): { state: BucketState | undefined; times: number[] } {
  let state = start;
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const r = bucketStep(state, p, now, 'take');
    state = r.state;
    times.push(slotTimes(r.tokensBefore, p.rps * r.state.factor, 1, now)[0]);
  }
  return { state, times };
}

describe('bucketStep', () => {
  it('grants the burst at once, then books one token per 1/rps in order', () => {
    const { state, times } = bookSingles(7, 0);
    expect(times).toEqual([0, 0, 0, 0, 0, 100, 200]);
    // two tokens are owed: at 100 ms the balance is -1, so the next booking matures at 200 ms
    const r = bucketStep(state, p, 100, 'take');
    expect(r.tokensBefore).toBeCloseTo(-1);
    expect(slotTimes(r.tokensBefore, p.rps, 1, 100)).toEqual([300]);
  });

  it('a booking of n tokens matures exactly like n single bookings', () => {
    const singles = bookSingles(9, 0).times;
    const batch = bucketStep(undefined, p, 0, 'take', 9);
    expect(slotTimes(batch.tokensBefore, p.rps, 9, 0)).toEqual(singles);
    expect(batch.state.tokens).toBe(5 - 9);
  });

  it('never lets more than burst + rps * t tokens mature in t seconds, however it is booked', () => {
    let state: BucketState | undefined;
    const matured: number[] = [];
    for (let now = 0; now <= 10_000; now += 7) {
      const count = 1 + (now % 4);
      const r = bucketStep(state, p, now, 'take', count);
      state = r.state;
      matured.push(...slotTimes(r.tokensBefore, p.rps * r.state.factor, count, now));
    }
    const within = matured.filter((t) => t <= 10_000).length;
    expect(within).toBeLessThanOrEqual(5 + 10 * 10);
    expect(within).toBeGreaterThanOrEqual(100);
  });

  it('halves the rate on a throttle, down to minFactor, and recovers linearly', () => {
    let { state } = bucketStep(undefined, p, 0, 'penalize');
    expect(state.factor).toBe(0.5);
    expect(state.tokens).toBe(0);
    for (let i = 0; i < 10; i++) state = bucketStep(state, p, 0, 'penalize').state;
    expect(state.factor).toBe(0.1);
    // 0.1 token/s refill at factor 0.1 -> 1 rps: the next token is a second away
    const r = bucketStep(state, p, 0, 'take');
    expect(slotTimes(r.tokensBefore, p.rps * r.state.factor, 1, 0)).toEqual([1000]);
    expect(bucketStep(state, p, 5000, 'take').state.factor).toBeCloseTo(0.6);
    expect(bucketStep(state, p, 60_000, 'take').state.factor).toBe(1);
  });

  it('keeps what is owed through a throttle', () => {
    const owed = bucketStep(undefined, p, 0, 'take', 8).state;
    expect(bucketStep(owed, p, 0, 'penalize').state.tokens).toBe(-3);
  });
});

describe('reservationSize', () => {
  it('books a second of the current rate, at least one, at most the burst', () => {
    expect(reservationSize({ ...p, rps: 100, burst: 100 }, 1)).toBe(100);
    expect(reservationSize({ ...p, rps: 100, burst: 100 }, 0.1)).toBe(10);
    expect(reservationSize({ ...p, rps: 100, burst: 20 }, 1)).toBe(20);
    expect(reservationSize({ ...p, rps: 2, burst: 2 }, 1)).toBe(2);
    expect(reservationSize({ ...p, rps: 1, burst: 1 }, 0.1)).toBe(1);
  });
});

describe('LocalRequestBudget', () => {
  const config = cloudMapSourceSchema.parse({ name: 'cm', region: 'eu-west-1', budget: { DiscoverInstances: { rps: 50, burst: 1 } } });

  it('waits for tokens and reports the factor', async () => {
    const budget = new LocalRequestBudget(config);
    const start = Date.now();
    for (let i = 0; i < 6; i++) await budget.take('DiscoverInstances');
    expect(Date.now() - start).toBeGreaterThanOrEqual(90);
    expect(await budget.penalize('DiscoverInstances')).toBeCloseTo(0.5, 1);
  });

  it('books once per batch for concurrent callers', async () => {
    const cfg = cloudMapSourceSchema.parse({ name: 'cm', region: 'eu-west-1', budget: { DiscoverInstances: { rps: 100, burst: 10 } } });
    const budget = new LocalRequestBudget(cfg);
    const book = jest.spyOn(budget as unknown as { book: (...a: unknown[]) => unknown }, 'book');
    const start = Date.now();
    const grants = await Promise.all(Array.from({ length: 30 }, () => budget.take('DiscoverInstances')));
    // 10 from the burst, then 20 at 100/s: ~200 ms, in three bookings of 10
    expect(book).toHaveBeenCalledTimes(3);
    expect(Date.now() - start).toBeGreaterThanOrEqual(180);
    expect(grants.every((g) => g.factor === 1)).toBe(true);
  });

  it('drops booked tokens on a throttle', async () => {
    const cfg = cloudMapSourceSchema.parse({ name: 'cm', region: 'eu-west-1', budget: { DiscoverInstances: { rps: 20, burst: 10 } } });
    const budget = new LocalRequestBudget(cfg);
    await budget.take('DiscoverInstances'); // books 10, uses 1
    await budget.penalize('DiscoverInstances');
    const start = Date.now();
    const grant = await budget.take('DiscoverInstances');
    // the 9 left were dropped: a fresh booking at 20 * 0.5 rps on an empty bucket waits ~100 ms
    expect(Date.now() - start).toBeGreaterThanOrEqual(90);
    expect(grant.factor).toBeCloseTo(0.5, 1);
  });

  it('drops a booked token left unused well past its time', async () => {
    let now = 0;
    const cfg = cloudMapSourceSchema.parse({ name: 'cm', region: 'eu-west-1', budget: { DiscoverInstances: { rps: 4, burst: 4 } } });
    const budget = new LocalRequestBudget(cfg, () => now);
    const book = jest.spyOn(budget as unknown as { book: (...a: unknown[]) => unknown }, 'book');
    await budget.take('DiscoverInstances'); // books 4 (a second at 4/s), uses 1
    now = 5000;
    await budget.take('DiscoverInstances');
    expect(book).toHaveBeenCalledTimes(2);
  });
});
