import { CloudMapApi, CloudMapSourceConfig } from './cloudmap-config.schema';
import { BudgetGrant, bucketParams, RequestBudget, takeWithWait } from './request-budget.service';

/**
 * bucketStep() in Lua, on Redis server time, so every replica draws from one bucket per
 * (source, API) and the budget holds for their sum whatever the membership is doing.
 * Returns { waitMs, factor * 1e6 }.
 */
export const TOKEN_BUCKET_LUA = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local rps = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local minFactor = tonumber(ARGV[3])
local recovery = tonumber(ARGV[4])
local op = ARGV[5]
local h = redis.call('HMGET', KEYS[1], 'tokens', 'ts', 'factor')
local tokens = tonumber(h[1])
local ts = tonumber(h[2])
local factor = tonumber(h[3])
if tokens == nil or ts == nil or factor == nil then
  tokens = burst
  ts = now
  factor = 1
end
local elapsed = math.max(0, now - ts) / 1000
factor = math.min(1, factor + elapsed * recovery)
tokens = math.min(burst, tokens + elapsed * rps * factor)
local wait = 0
if op == 'penalize' then
  factor = math.max(minFactor, factor / 2)
  tokens = math.min(tokens, 0)
elseif tokens >= 1 then
  tokens = tokens - 1
else
  wait = math.max(1, math.ceil((1 - tokens) / (rps * factor) * 1000))
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(now), 'factor', tostring(factor))
redis.call('PEXPIRE', KEYS[1], 3600000)
return { wait, math.floor(factor * 1000000) }
`;

/**
 * Budget shared by all replicas through Redis (one round trip per AWS request). Chosen over
 * "budget / live members": membership changes are seen by replicas at different moments, and in
 * that window a divided budget is overspent; the shared bucket never is.
 */
/** The ioredis surface the budget needs (Redis or Cluster). */
export interface BudgetRedis {
  eval(script: string, numKeys: number, ...args: Array<string | number>): Promise<unknown>;
}

export class RedisRequestBudget implements RequestBudget {
  constructor(
    private readonly redis: BudgetRedis,
    private readonly source: string,
    private readonly config: Pick<CloudMapSourceConfig, 'budget' | 'throttle'>,
    private readonly keyPrefix = '{rb}:cloudmap:budget',
  ) {}

  key(api: CloudMapApi): string {
    return `${this.keyPrefix}:${this.source}:${api}`;
  }

  take(api: CloudMapApi): Promise<BudgetGrant> {
    return takeWithWait(() => this.eval(api, 'take'));
  }

  async penalize(api: CloudMapApi): Promise<number> {
    return (await this.eval(api, 'penalize')).factor;
  }

  private async eval(api: CloudMapApi, op: 'take' | 'penalize'): Promise<{ waitMs: number; factor: number }> {
    const p = bucketParams(this.config, api);
    const [waitMs, factor] = (await this.redis.eval(TOKEN_BUCKET_LUA, 1, this.key(api), p.rps, p.burst, p.minFactor, p.recoveryPerSecond, op)) as [number, number];
    return { waitMs: Number(waitMs), factor: Number(factor) / 1e6 };
  }
}
