import { budgetFor, CloudMapApi, CloudMapSourceConfig } from './cloudmap-config.schema';

export interface BudgetGrant {
  /** Time spent waiting for the token, ms. */
  waitedMs: number;
  /** Adaptive factor (0..1] applied to the configured rate when the token was taken. */
  factor: number;
}

/**
 * Requests per second per API of one source. `take` resolves when one request may be sent;
 * `penalize` (on a ThrottlingException) halves the rate for everybody sharing the budget.
 */
export interface RequestBudget {
  take(api: CloudMapApi): Promise<BudgetGrant>;
  penalize(api: CloudMapApi): Promise<number>;
}

export interface BucketParams {
  rps: number;
  burst: number;
  minFactor: number;
  recoveryPerSecond: number;
}

export interface BucketState {
  tokens: number;
  ts: number;
  factor: number;
}

export function bucketParams(config: Pick<CloudMapSourceConfig, 'budget' | 'throttle'>, api: CloudMapApi): BucketParams {
  const { rps, burst } = budgetFor(config, api);
  return { rps, burst, minFactor: config.throttle.minFactor, recoveryPerSecond: config.throttle.recoveryPerSecond };
}

/**
 * Token bucket with an AIMD factor: refill at rps * factor, the factor recovers linearly and halves on
 * each throttle. Returns the wait in ms (0 = granted). The Redis Lua script is the same arithmetic.
 */
export function bucketStep(state: BucketState | undefined, p: BucketParams, now: number, op: 'take' | 'penalize'): { state: BucketState; waitMs: number } {
  const s = state ?? { tokens: p.burst, ts: now, factor: 1 };
  const elapsed = Math.max(0, now - s.ts) / 1000;
  let factor = Math.min(1, s.factor + elapsed * p.recoveryPerSecond);
  let tokens = Math.min(p.burst, s.tokens + elapsed * p.rps * factor);
  if (op === 'penalize') {
    factor = Math.max(p.minFactor, factor / 2);
    tokens = Math.min(tokens, 0);
    return { state: { tokens, ts: now, factor }, waitMs: 0 };
  }
  if (tokens >= 1) return { state: { tokens: tokens - 1, ts: now, factor }, waitMs: 0 };
  return { state: { tokens, ts: now, factor }, waitMs: Math.max(1, Math.ceil(((1 - tokens) / (p.rps * factor)) * 1000)) };
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Waits in short slices so a change of the shared state (a penalty) is seen soon. */
export async function takeWithWait(attempt: () => Promise<{ waitMs: number; factor: number }>, maxSliceMs = 1000): Promise<BudgetGrant> {
  const start = Date.now();
  for (;;) {
    const { waitMs, factor } = await attempt();
    if (waitMs <= 0) return { waitedMs: Date.now() - start, factor };
    await sleep(Math.min(waitMs, maxSliceMs));
  }
}

/** In-process budget: right for one replica, and for unit tests. */
export class LocalRequestBudget implements RequestBudget {
  private readonly states = new Map<CloudMapApi, BucketState>();

  constructor(
    private readonly config: Pick<CloudMapSourceConfig, 'budget' | 'throttle'>,
    private readonly now: () => number = Date.now,
  ) {}

  take(api: CloudMapApi): Promise<BudgetGrant> {
    return takeWithWait(async () => this.step(api, 'take'));
  }

  async penalize(api: CloudMapApi): Promise<number> {
    return this.step(api, 'penalize').factor;
  }

  private step(api: CloudMapApi, op: 'take' | 'penalize'): { waitMs: number; factor: number } {
    const { state, waitMs } = bucketStep(this.states.get(api), bucketParams(this.config, api), this.now(), op);
    this.states.set(api, state);
    return { waitMs, factor: state.factor };
  }
}
