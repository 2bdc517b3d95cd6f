import { cloudMapSourceSchema } from './cloudmap-config.schema';
import { BucketParams, bucketStep, BucketState, LocalRequestBudget } from './request-budget.service';

const p: BucketParams = { rps: 10, burst: 5, minFactor: 0.1, recoveryPerSecond: 0.1 };

describe('bucketStep', () => {
  it('grants the burst at once, then one token per 1/rps', () => {
    let state: BucketState | undefined;
    const waits: number[] = [];
    for (let i = 0; i < 7; i++) {
      const r = bucketStep(state, p, 0, 'take');
      state = r.state;
      waits.push(r.waitMs);
    }
    expect(waits).toEqual([0, 0, 0, 0, 0, 100, 100]);
    expect(bucketStep(state, p, 100, 'take').waitMs).toBe(0);
  });

  it('never grants more than burst + rps * t in t seconds', () => {
    let state: BucketState | undefined;
    let granted = 0;
    for (let now = 0; now <= 10_000; now += 7) {
      for (let k = 0; k < 3; k++) {
        const r = bucketStep(state, p, now, 'take');
        state = r.state;
        if (r.waitMs === 0) granted++;
      }
    }
    expect(granted).toBeLessThanOrEqual(5 + 10 * 10);
    expect(granted).toBeGreaterThanOrEqual(100);
  });

  it('halves the rate on a throttle, down to minFactor, and recovers linearly', () => {
    let { state } = bucketStep(undefined, p, 0, 'penalize');
    expect(state.factor).toBe(0.5);
    expect(state.tokens).toBe(0);
    for (let i = 0; i < 10; i++) state = bucketStep(state, p, 0, 'penalize').state;
    expect(state.factor).toBe(0.1);
    // 0.1 token/s refill at factor 0.1 -> 1 rps: the next token is a second away
    expect(bucketStep(state, p, 0, 'take').waitMs).toBe(1000);
    expect(bucketStep(state, p, 5000, 'take').state.factor).toBeCloseTo(0.6);
    expect(bucketStep(state, p, 60_000, 'take').state.factor).toBe(1);
  });
});

describe('LocalRequestBudget', () => {
  it('waits for tokens and reports the factor', async () => {
    const config = cloudMapSourceSchema.parse({ name: 'cm', region: 'eu-west-1', budget: { DiscoverInstances: { rps: 50, burst: 1 } } });
    const budget = new LocalRequestBudget(config);
    const start = Date.now();
    for (let i = 0; i < 6; i++) await budget.take('DiscoverInstances');
    expect(Date.now() - start).toBeGreaterThanOrEqual(90);
    expect(await budget.penalize('DiscoverInstances')).toBeCloseTo(0.5, 1);
  });
});
