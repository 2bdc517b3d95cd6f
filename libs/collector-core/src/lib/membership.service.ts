import { Logger } from '@nestjs/common';
import { RegistryKind } from '@registry-bridge/contract';
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { hostname } from 'node:os';
import { leaseKey, membersKey } from './redis-keys';
import { rendezvousOwner } from './rendezvous';

/** The ioredis surface membership needs (Redis or Cluster). */
export interface MembershipRedis {
  eval(script: string, numKeys: number, ...args: Array<string | number>): Promise<unknown>;
  set(key: string, value: string, px: 'PX', ms: number, nx: 'NX'): Promise<'OK' | null>;
}

export interface MembershipOptions {
  kind: RegistryKind;
  /** Key prefix (the BullMQ prefix, `{rb}` by default). */
  prefix: string;
  heartbeatMs?: number;
  /** A member that has not heartbeaten for this long is gone. */
  ttlMs?: number;
  /** Lease lifetime; renewed on every heartbeat while held. Defaults to `ttlMs`. */
  leaseTtlMs?: number;
  memberId?: string;
}

// Members live in one sorted set scored by expiry time on the Redis clock (TIME), so replicas'
// clock skew cannot make a live member look dead. One round trip: prune, refresh self, list.
const HEARTBEAT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]) * 10)
return redis.call('ZRANGEBYSCORE', KEYS[1], now, '+inf')`;

const RENEW = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0`;

const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

export function newMemberId(): string {
  return `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
}

export interface MembershipEvents {
  change: [members: string[]];
  leaseLost: [name: string];
}

/**
 * Replicas of one collector kind share the work: each heartbeats into Redis, and a service key
 * belongs to the live member that rendezvous hashing picks. When a replica dies its entry
 * expires after `ttlMs` and the others pick up its keys on their next heartbeat ('change').
 *
 * Cut off from Redis, a replica keeps its last view rather than dropping everything: two
 * replicas watching one service is harmless (the writer is idempotent), a gap is not.
 */
export class MembershipService extends EventEmitter<MembershipEvents> {
  readonly memberId: string;
  readonly heartbeatMs: number;
  readonly ttlMs: number;
  readonly leaseTtlMs: number;
  private current: string[];
  private readonly held = new Set<string>();
  private timer?: NodeJS.Timeout;
  private beating?: Promise<void>;
  private closed = false;
  private lastBeatAt = 0;
  private readonly log = new Logger(MembershipService.name);

  constructor(
    private readonly redis: MembershipRedis,
    private readonly options: MembershipOptions,
  ) {
    super();
    this.memberId = options.memberId ?? newMemberId();
    this.heartbeatMs = options.heartbeatMs ?? 2000;
    this.ttlMs = options.ttlMs ?? 6000;
    this.leaseTtlMs = options.leaseTtlMs ?? this.ttlMs;
    if (this.ttlMs < 2 * this.heartbeatMs) throw new Error(`membership ttl (${this.ttlMs}ms) must be at least twice the heartbeat (${this.heartbeatMs}ms)`);
    // Until Redis answers, this replica assumes it is alone and owns everything (see above).
    this.current = [this.memberId];
  }

  /** First heartbeat (awaited, but a failure only logs), then one every `heartbeatMs`. */
  async start(): Promise<void> {
    if (this.timer || this.closed) return;
    await this.heartbeat();
    this.timer = setInterval(() => void this.heartbeat(), this.heartbeatMs);
    this.timer.unref();
  }

  /** Live members, sorted. */
  members(): string[] {
    return [...this.current];
  }

  owns(serviceKey: string): boolean {
    return rendezvousOwner(serviceKey, this.current) === this.memberId;
  }

  ownerOf(serviceKey: string): string | undefined {
    return rendezvousOwner(serviceKey, this.current);
  }

  /** When the last heartbeat reached Redis (0 = never). */
  lastHeartbeatAt(): number {
    return this.lastBeatAt;
  }

  /**
   * True while this replica holds the named lease: takes it when free (SET NX PX), renews it
   * when already ours (compare-and-pexpire). Once held it is renewed on every heartbeat until
   * lost or released. Call it before each guarded action (inventory snapshot, full fetch).
   * A Redis error answers false.
   */
  async leaseFor(name: string): Promise<boolean> {
    if (this.closed) return false;
    const key = leaseKey(this.options.prefix, this.options.kind, name);
    let ours: boolean;
    try {
      ours = (await this.redis.set(key, this.memberId, 'PX', this.leaseTtlMs, 'NX')) === 'OK' || (await this.renew(key));
    } catch (err) {
      // Not knowing is not holding: skip the guarded action this time.
      this.log.warn(`lease ${name}: ${(err as Error).message}`);
      return false;
    }
    if (ours) this.held.add(name);
    else this.dropLease(name);
    return ours;
  }

  holdsLease(name: string): boolean {
    return this.held.has(name);
  }

  async releaseLease(name: string): Promise<void> {
    this.held.delete(name);
    await this.redis.eval(RELEASE, 1, leaseKey(this.options.prefix, this.options.kind, name), this.memberId);
  }

  /**
   * Stops heartbeating. `leave` (the default) removes this member and releases its leases so
   * the others take over at once; `leave: false` simulates a crash (entries expire by TTL).
   */
  async close(options: { leave?: boolean } = {}): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    this.timer = undefined;
    await this.beating;
    if (options.leave === false) return;
    try {
      await Promise.all([...this.held].map((name) => this.releaseLease(name)));
      await this.redis.eval(`return redis.call('ZREM', KEYS[1], ARGV[1])`, 1, membersKey(this.options.prefix, this.options.kind), this.memberId);
    } catch (err) {
      this.log.warn(`could not leave cleanly (others take over after ${this.ttlMs}ms): ${(err as Error).message}`);
    }
  }

  private async heartbeat(): Promise<void> {
    if (this.beating || this.closed) return this.beating;
    this.beating = this.beat().finally(() => (this.beating = undefined));
    return this.beating;
  }

  private async beat(): Promise<void> {
    try {
      const live = (await this.redis.eval(HEARTBEAT, 1, membersKey(this.options.prefix, this.options.kind), this.memberId, this.ttlMs)) as string[];
      this.lastBeatAt = Date.now();
      this.update([...live].sort());
    } catch (err) {
      this.log.warn(`membership heartbeat failed, keeping the last view of ${this.current.length} member(s): ${(err as Error).message}`);
    }
    for (const name of [...this.held]) {
      try {
        if (!(await this.renew(leaseKey(this.options.prefix, this.options.kind, name)))) this.dropLease(name);
      } catch {
        // Unknown whether it still holds: keep it; the next renewal or leaseFor() decides.
      }
    }
  }

  private async renew(key: string): Promise<boolean> {
    return Number(await this.redis.eval(RENEW, 1, key, this.memberId, this.leaseTtlMs)) === 1;
  }

  private dropLease(name: string): void {
    if (this.held.delete(name)) this.emit('leaseLost', name);
  }

  private update(members: string[]): void {
    if (members.join('\n') === this.current.join('\n')) return;
    const before = this.current.length;
    this.current = members;
    this.log.log(`members of ${this.options.kind} collectors: ${before} -> ${members.length}`);
    this.emit('change', this.members());
  }
}
