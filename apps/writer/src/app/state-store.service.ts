import type { Cluster, Redis } from 'ioredis';
import { ServiceRecord, SnapshotMessage, SourceStatusMessage, serviceRefKey } from '@registry-bridge/contract';

/** Latest known state of one service key, as the reconcile reads it. */
export interface KeyState {
  key: string;
  revision: number;
  lineage: string;
  observedAt: number;
  deleted: boolean;
  removedAt?: number;
  record?: ServiceRecord;
  appliedHash?: string;
  name?: string;
  namespace?: string;
  host?: string;
  mode?: string;
  refused?: string;
  /** When the key was first refused since it was last applied (the grace of its object's deletion). */
  refusedAt?: number;
  /** Hash of what the API server rejected for good: not sent again until it changes. */
  rejectedHash?: string;
}

export interface SnapshotState {
  epoch: number;
  complete: boolean;
  observedAt: number;
  keys: Set<string>;
}

export interface SourceState {
  reachable: boolean;
  lastSuccessAt?: string;
  error?: string;
  conditions: Record<string, unknown>;
  observedAt: number;
  /** When the writer last heard from the source (writer clock). */
  heardAt: number;
}

// Compare-and-set on (lineage, revision, observedAt): latest wins whatever the delivery order.
const CAS_SCRIPT = `
local cur = redis.call('HMGET', KEYS[1], 'rev', 'lineage', 'observedAt', 'deleted', 'removedAt')
if cur[1] then
  local crev = tonumber(cur[1])
  local nrev = tonumber(ARGV[1])
  local nobs = tonumber(ARGV[3])
  local cobs = tonumber(cur[3])
  if (cur[2] or '') == ARGV[2] then
    if nrev < crev then return 0 end
    if nrev == crev and nobs == cobs then return 2 end
    if nrev == crev and nobs < cobs then return 0 end
  else
    if nobs == cobs then return 2 end
    if nobs < cobs then return 0 end
  end
end
redis.call('HSET', KEYS[1], 'rev', ARGV[1], 'lineage', ARGV[2], 'observedAt', ARGV[3], 'deleted', ARGV[4], 'record', ARGV[5])
if ARGV[4] == '1' then
  if cur[4] ~= '1' or not cur[5] then redis.call('HSET', KEYS[1], 'removedAt', ARGV[7]) end
else
  redis.call('HDEL', KEYS[1], 'removedAt')
end
redis.call('SADD', KEYS[2], ARGV[6])
return 1
`;

// Tombstone a key only if nothing newer than the snapshot arrived for it (ARGV[1] = snapshot time).
// KEYS[1] the source's deletions (score: when); ARGV: window start, budget, now, member.
const TAKE_DELETION_SCRIPT = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], 0, ARGV[1])
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then return 0 end
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[4])
return 1
`;

const TOMBSTONE_SCRIPT = `
local cur = redis.call('HMGET', KEYS[1], 'observedAt', 'deleted')
if cur[1] and tonumber(cur[1]) >= tonumber(ARGV[1]) then return 0 end
if cur[2] == '1' then return 0 end
if not cur[1] then
  redis.call('HSET', KEYS[1], 'rev', '0', 'lineage', '', 'observedAt', '0')
end
redis.call('HSET', KEYS[1], 'deleted', '1', 'removedAt', ARGV[2])
redis.call('SADD', KEYS[2], ARGV[3])
return 1
`;

const SNAPSHOT_SCRIPT = `
local cur = redis.call('HGET', KEYS[1], 'epoch')
if cur and tonumber(cur) >= tonumber(ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], 'epoch', ARGV[1], 'complete', ARGV[2], 'observedAt', ARGV[3], 'keys', ARGV[4])
return 1
`;

/**
 * The writer's durable state in Redis. Keys share one hash tag (the queue prefix) so the
 * scripts work on Redis Cluster too.
 */
export class StateStore {
  constructor(
    private readonly redis: Redis | Cluster,
    private readonly prefix: string,
  ) {}

  private k(...parts: string[]): string {
    return [this.prefix, 'writer', ...parts].join(':');
  }
  stateKey(key: string): string {
    return this.k('state', key);
  }

  /**
   * Stores an upsert (or a removal, record undefined) if it is newer. 'stored', 'same' (a
   * redelivery of what is stored: reconcile again, it is cheap) or 'stale'.
   */
  async put(key: string, source: string, rev: number, lineage: string, observedAt: number, record: ServiceRecord | undefined, now = Date.now()): Promise<'stored' | 'same' | 'stale'> {
    const res = await this.redis.eval(
      CAS_SCRIPT,
      2,
      this.stateKey(key),
      this.k('keys', source),
      String(rev),
      lineage,
      String(observedAt),
      record ? '0' : '1',
      record ? JSON.stringify(record) : '',
      key,
      String(now),
    );
    return res === 1 ? 'stored' : res === 2 ? 'same' : 'stale';
  }

  async setObject(key: string, name: string, namespace: string): Promise<void> {
    await this.redis.hset(this.stateKey(key), { name, ns: namespace });
  }

  async tombstone(key: string, source: string, snapshotObservedAt: number, now = Date.now()): Promise<boolean> {
    const res = await this.redis.eval(TOMBSTONE_SCRIPT, 2, this.stateKey(key), this.k('keys', source), String(snapshotObservedAt), String(now), key);
    return res === 1;
  }

  async get(key: string): Promise<KeyState | undefined> {
    const h = await this.redis.hgetall(this.stateKey(key));
    if (!h || !h['rev']) return undefined;
    return {
      key,
      revision: Number(h['rev']),
      lineage: h['lineage'] ?? '',
      observedAt: Number(h['observedAt']),
      deleted: h['deleted'] === '1',
      removedAt: h['removedAt'] ? Number(h['removedAt']) : undefined,
      record: h['record'] ? (JSON.parse(h['record']) as ServiceRecord) : undefined,
      appliedHash: h['appliedHash'] || undefined,
      name: h['name'] || undefined,
      namespace: h['ns'] || undefined,
      host: h['host'] || undefined,
      mode: h['mode'] || undefined,
      refused: h['refused'] || undefined,
      refusedAt: h['refusedAt'] ? Number(h['refusedAt']) : undefined,
      rejectedHash: h['rejectedHash'] || undefined,
    };
  }

  async markApplied(key: string, fields: { appliedHash: string; name: string; namespace: string; host: string; mode: string }): Promise<void> {
    await this.redis.hset(this.stateKey(key), { appliedHash: fields.appliedHash, name: fields.name, ns: fields.namespace, host: fields.host, mode: fields.mode, refused: '' });
    await this.redis.hdel(this.stateKey(key), 'refusedAt', 'rejectedHash');
  }

  /** Records a refusal; `refusedAt` keeps the first one since the key was last applied. */
  async markRefused(key: string, reason: string, now = Date.now(), rejectedHash?: string): Promise<void> {
    await this.redis.hset(this.stateKey(key), { refused: reason.slice(0, 1000), rejectedHash: rejectedHash ?? '' });
    await this.redis.hsetnx(this.stateKey(key), 'refusedAt', String(now));
  }

  /** The object of a refused key was deleted: the key has nothing written any more. */
  async markRetired(key: string): Promise<void> {
    await this.redis.hdel(this.stateKey(key), 'appliedHash', 'name', 'ns', 'host', 'mode');
  }

  /** Forgets a key after its objects were deleted; only if it is still the tombstone we deleted for. */
  async forget(key: string, source: string, observedAt: number): Promise<void> {
    const cur = await this.get(key);
    if (cur && cur.deleted && cur.observedAt === observedAt) {
      await this.redis.del(this.stateKey(key));
      await this.redis.srem(this.k('keys', source), key);
    }
  }

  sourceKeys(source: string): Promise<string[]> {
    return this.redis.smembers(this.k('keys', source));
  }

  async putSnapshot(msg: SnapshotMessage): Promise<boolean> {
    const keys = msg.services.map((ref) => serviceRefKey(msg.source.name, ref));
    const res = await this.redis.eval(
      SNAPSHOT_SCRIPT,
      1,
      this.k('snapshot', msg.complete ? 'complete' : 'partial', msg.source.name),
      String(msg.epoch),
      msg.complete ? '1' : '0',
      String(Date.parse(msg.observedAt)),
      JSON.stringify(keys),
    );
    return res === 1;
  }

  async completeSnapshot(source: string): Promise<SnapshotState | undefined> {
    const h = await this.redis.hgetall(this.k('snapshot', 'complete', source));
    if (!h || !h['epoch']) return undefined;
    return { epoch: Number(h['epoch']), complete: true, observedAt: Number(h['observedAt']), keys: new Set(JSON.parse(h['keys'] ?? '[]') as string[]) };
  }

  async putStatus(msg: SourceStatusMessage, now = Date.now()): Promise<void> {
    const key = this.k('status', msg.source.name);
    const cur = await this.redis.hget(key, 'observedAt');
    const observedAt = Date.parse(msg.observedAt);
    // An older heartbeat still proves the source's collector is alive.
    if (cur && Number(cur) > observedAt) {
      await this.redis.hset(key, 'heardAt', String(now));
      return;
    }
    await this.redis.hset(key, {
      reachable: msg.reachable ? '1' : '0',
      lastSuccessAt: msg.lastSuccessAt ?? '',
      error: msg.error ?? '',
      conditions: JSON.stringify(msg.conditions ?? {}),
      observedAt: String(observedAt),
      heardAt: String(now),
    });
  }

  async status(source: string): Promise<SourceState | undefined> {
    const h = await this.redis.hgetall(this.k('status', source));
    if (!h || !h['heardAt']) return undefined;
    return {
      reachable: h['reachable'] === '1',
      lastSuccessAt: h['lastSuccessAt'] || undefined,
      error: h['error'] || undefined,
      conditions: JSON.parse(h['conditions'] || '{}') as Record<string, unknown>,
      observedAt: Number(h['observedAt']),
      heardAt: Number(h['heardAt']),
    };
  }

  /** Deletions done for a source within the window (for the deletion budget). */
  async deletionsInWindow(source: string, windowMs: number, now = Date.now()): Promise<number> {
    const key = this.k('deletes', source);
    await this.redis.zremrangebyscore(key, 0, now - windowMs);
    return this.redis.zcard(key);
  }

  /**
   * Takes one deletion from a source's budget, atomically: false when `budget` deletions already
   * happened in the window. Checking the count and recording the deletion as two steps let every
   * concurrent reconcile of a wiped source pass the same check (the fault suite saw 5 of a budget of 2).
   */
  async takeDeletion(source: string, key: string, budget: number, windowMs: number, now = Date.now()): Promise<boolean> {
    const res = await this.redis.eval(TAKE_DELETION_SCRIPT, 1, this.k('deletes', source), String(now - windowMs), String(budget), String(now), `${now}:${key}`);
    return res === 1;
  }

  /** The key holding a host claim, if any (the rule of who may take it is the HostIndex's). */
  async hostHolder(host: string): Promise<string | undefined> {
    return (await this.redis.hget(this.k('hosts'), host)) ?? undefined;
  }

  /** Records `key` as the holder of `host`: only if nobody holds it (`ifFree`), or over whoever does. True when set. */
  async setHostHolder(host: string, key: string, ifFree: boolean): Promise<boolean> {
    if (ifFree) return (await this.redis.hsetnx(this.k('hosts'), host, key)) === 1;
    await this.redis.hset(this.k('hosts'), host, key);
    return true;
  }

  /** Drops the claim on `host` if `key` holds it. */
  async releaseHost(host: string, key: string): Promise<void> {
    const hostsKey = this.k('hosts');
    if ((await this.redis.hget(hostsKey, host)) === key) await this.redis.hdel(hostsKey, host);
  }
}
