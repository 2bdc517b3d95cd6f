import { BudgetSettings, CloudMapApi } from './cloudmap-config.schema';
import { BookingRequestBudget, BucketParams } from './request-budget.service';

/**
 * bucketStep() in Lua, on Redis server time, so every replica draws from one bucket per
 * (source, API) and the budget holds for their sum whatever the membership is doing.
 * ARGV[6] is the number of tokens to book. Returns { balance before * 1000, factor * 1e6 }.
 */
export const TOKEN_BUCKET_LUA = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local rps = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local minFactor = tonumber(ARGV[3])
local recovery = tonumber(ARGV[4])
local op = ARGV[5]
local count = tonumber(ARGV[6])
local h = redis.call('HMGET', KEYS[1], 'tokens', 'ts', 'factor', 'ttlAt')
local tokens = tonumber(h[1])
local ts = tonumber(h[2])
local factor = tonumber(h[3])
local ttlAt = tonumber(h[4]) or 0
if tokens == nil or ts == nil or factor == nil then
  tokens = burst
  ts = now
  factor = 1
end
local elapsed = math.max(0, now - ts) / 1000
factor = math.min(1, factor + elapsed * recovery)
tokens = math.min(burst, tokens + elapsed * rps * factor)
local before = tokens
if op == 'penalize' then
  factor = math.max(minFactor, factor / 2)
  tokens = math.min(tokens, 0)
else
  tokens = tokens - count
end
-- The expiry is refreshed once a minute, not on every call: one command less per booking.
local refresh = now - ttlAt > 60000
if refresh then ttlAt = now end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(now), 'factor', tostring(factor), 'ttlAt', tostring(ttlAt))
if refresh then redis.call('PEXPIRE', KEYS[1], 3600000) end
return { math.floor(before * 1000), math.floor(factor * 1000000) }
`;

/** The ioredis surface the budget needs (Redis or Cluster). */
export interface BudgetRedis {
  eval(script: string, numKeys: number, ...args: Array<string | number>): Promise<unknown>;
}

/**
 * Budget shared by all replicas through Redis: one script call books about a second of tokens
 * for this process. Chosen over "budget / live members": membership changes are seen by replicas at
 * different moments, and in that window a divided budget is overspent; the shared bucket never is.
 */
export class RedisRequestBudget extends BookingRequestBudget {
  constructor(
    private readonly redis: BudgetRedis,
    private readonly source: string,
    config: BudgetSettings,
    private readonly keyPrefix = '{rb}:cloudmap:budget',
  ) {
    super(config);
  }

  key(api: CloudMapApi): string {
    return `${this.keyPrefix}:${this.source}:${api}`;
  }

  protected async book(api: CloudMapApi, p: BucketParams, count: number): Promise<{ tokensBefore: number; factor: number }> {
    const r = await this.eval(api, p, 'take', count);
    return { tokensBefore: r.balance, factor: r.factor };
  }

  protected async throttle(api: CloudMapApi, p: BucketParams): Promise<number> {
    return (await this.eval(api, p, 'penalize', 0)).factor;
  }

  private async eval(api: CloudMapApi, p: BucketParams, op: 'take' | 'penalize', count: number): Promise<{ balance: number; factor: number }> {
    const [balance, factor] = (await this.redis.eval(TOKEN_BUCKET_LUA, 1, this.key(api), p.rps, p.burst, p.minFactor, p.recoveryPerSecond, op, count)) as [number, number];
    return { balance: Number(balance) / 1000, factor: Number(factor) / 1e6 };
  }
}
