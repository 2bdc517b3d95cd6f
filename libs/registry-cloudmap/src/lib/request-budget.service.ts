import { budgetFor, BudgetSettings, CloudMapApi } from './cloudmap-config.schema';

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

export function bucketParams(config: BudgetSettings, api: CloudMapApi): BucketParams {
  const { rps, burst } = budgetFor(config, api);
  return { rps, burst, minFactor: config.throttle.minFactor, recoveryPerSecond: config.throttle.recoveryPerSecond };
}

/**
 * Token bucket with an AIMD factor: refill at rps * factor, the factor recovers linearly and halves on
 * each throttle. A take books `count` tokens at once and may leave the balance negative: the booked
 * tokens mature one per 1/(rps * factor) in the order they were booked (see slotTimes), so a caller
 * needs one round trip per booking instead of polling until a token is free. Returns the balance
 * before the booking. The Redis Lua script (TOKEN_BUCKET_LUA) is the same arithmetic.
 */
export function bucketStep(
  state: BucketState | undefined,
  p: BucketParams,
  now: number,
  op: 'take' | 'penalize',
  count = 1,
): { state: BucketState; tokensBefore: number } {
  const s = state ?? { tokens: p.burst, ts: now, factor: 1 };
  const elapsed = Math.max(0, now - s.ts) / 1000;
  let factor = Math.min(1, s.factor + elapsed * p.recoveryPerSecond);
  let tokens = Math.min(p.burst, s.tokens + elapsed * p.rps * factor);
  const tokensBefore = tokens;
  if (op === 'penalize') {
    factor = Math.max(p.minFactor, factor / 2);
    tokens = Math.min(tokens, 0);
  } else {
    tokens -= count;
  }
  return { state: { tokens, ts: now, factor }, tokensBefore };
}

/** When each of `count` tokens booked from a balance of `tokensBefore` matures (epoch ms). */
export function slotTimes(tokensBefore: number, ratePerSecond: number, count: number, now: number): number[] {
  return Array.from({ length: count }, (_, j) => now + Math.max(0, Math.ceil(((j + 1 - tokensBefore) / ratePerSecond) * 1000)));
}

/** Tokens booked per round trip: about a second of the current rate, within the burst. */
export const RESERVE_WINDOW_SECONDS = 1;
/** A booked token not used this long after it matured is dropped, so an idle spell cannot turn into a burst. */
export const SLOT_GRACE_MS = 1000;

export function reservationSize(p: BucketParams, factor: number): number {
  return Math.max(1, Math.min(Math.floor(p.burst), Math.ceil(p.rps * factor * RESERVE_WINDOW_SECONDS)));
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

interface SlotPool {
  /** Maturity times of booked tokens, ascending. */
  slots: number[];
  factor: number;
  booking?: Promise<void>;
}

/**
 * Hands out tokens booked in batches: one booking round trip per ~second of rate per API, shared
 * by every concurrent caller of this process, instead of one (or, while waiting, several) per request.
 * Booked tokens are spent from the shared bucket whether used or not, so the budget holds across
 * replicas; a throttle drops what this process has booked and not yet used.
 */
export abstract class BookingRequestBudget implements RequestBudget {
  private readonly pools = new Map<CloudMapApi, SlotPool>();

  constructor(
    protected readonly config: BudgetSettings,
    protected readonly now: () => number = Date.now,
  ) {}

  /** Books `count` tokens; returns the balance before the booking and the current factor. */
  protected abstract book(api: CloudMapApi, p: BucketParams, count: number): Promise<{ tokensBefore: number; factor: number }>;
  /** Halves the shared rate; returns the new factor. */
  protected abstract throttle(api: CloudMapApi, p: BucketParams): Promise<number>;

  async take(api: CloudMapApi): Promise<BudgetGrant> {
    const start = this.now();
    const pool = this.pool(api);
    for (;;) {
      const now = this.now();
      while (pool.slots.length > 0 && pool.slots[0] + SLOT_GRACE_MS < now) pool.slots.shift();
      const at = pool.slots.shift();
      if (at !== undefined) {
        if (at > now) await sleep(at - now);
        return { waitedMs: Math.max(0, this.now() - start), factor: pool.factor };
      }
      pool.booking ??= this.refill(api, pool).finally(() => (pool.booking = undefined));
      await pool.booking;
    }
  }

  async penalize(api: CloudMapApi): Promise<number> {
    const pool = this.pool(api);
    pool.slots = [];
    pool.factor = await this.throttle(api, bucketParams(this.config, api));
    return pool.factor;
  }

  private async refill(api: CloudMapApi, pool: SlotPool): Promise<void> {
    const p = bucketParams(this.config, api);
    const count = reservationSize(p, pool.factor);
    const { tokensBefore, factor } = await this.book(api, p, count);
    pool.factor = factor;
    pool.slots.push(...slotTimes(tokensBefore, p.rps * factor, count, this.now()));
  }

  private pool(api: CloudMapApi): SlotPool {
    let pool = this.pools.get(api);
    if (!pool) this.pools.set(api, (pool = { slots: [], factor: 1 }));
    return pool;
  }
}

/** In-process budget: right for one replica, and for unit tests. */
export class LocalRequestBudget extends BookingRequestBudget {
  private readonly states = new Map<CloudMapApi, BucketState>();

  protected async book(api: CloudMapApi, p: BucketParams, count: number): Promise<{ tokensBefore: number; factor: number }> {
    const { state, tokensBefore } = bucketStep(this.states.get(api), p, this.now(), 'take', count);
    this.states.set(api, state);
    return { tokensBefore, factor: state.factor };
  }

  protected async throttle(api: CloudMapApi, p: BucketParams): Promise<number> {
    const { state } = bucketStep(this.states.get(api), p, this.now(), 'penalize');
    this.states.set(api, state);
    return state.factor;
  }
}
