import { MembershipRedis, MembershipService, newMemberId } from './membership.service';

/** Answers the heartbeat script with a scripted member list, or fails. */
function fakeRedis() {
  const state = { members: [] as string[], fail: false };
  const redis: MembershipRedis = {
    eval: async (script: string) => {
      if (state.fail) throw new Error('ECONNREFUSED');
      return script.includes('ZRANGEBYSCORE') ? state.members : 1;
    },
    set: async () => {
      if (state.fail) throw new Error('ECONNREFUSED');
      return 'OK';
    },
  };
  return { state, redis };
}

describe('MembershipService (unit)', () => {
  it('makes ids of hostname-pid-random', () => {
    expect(newMemberId()).toMatch(new RegExp(`-${process.pid}-[0-9a-f]{6}$`));
    expect(newMemberId()).not.toBe(newMemberId());
  });

  it('owns everything before Redis answers, then its rendezvous share', async () => {
    const { state, redis } = fakeRedis();
    const m = new MembershipService(redis, { kind: 'consul', prefix: '{rb}', memberId: 'a' });
    expect(m.owns('x//svc')).toBe(true);
    state.members = ['b', 'a'];
    const changes: string[][] = [];
    m.on('change', (ms) => changes.push(ms));
    await m.start();
    expect(m.members()).toEqual(['a', 'b']);
    expect(changes).toEqual([['a', 'b']]);
    const keys = Array.from({ length: 100 }, (_, i) => `s//svc-${i}`);
    expect(keys.filter((k) => m.owns(k)).length).toBeGreaterThan(25);
    expect(keys.filter((k) => m.owns(k)).length).toBeLessThan(75);
    await m.close();
  });

  it('keeps its last view when a heartbeat fails (a duplicate watch beats a gap)', async () => {
    const { state, redis } = fakeRedis();
    state.members = ['a', 'b'];
    const m = new MembershipService(redis, { kind: 'eureka', prefix: '{rb}', memberId: 'a', heartbeatMs: 10, ttlMs: 30 });
    await m.start();
    state.fail = true;
    await new Promise((r) => setTimeout(r, 40));
    expect(m.members()).toEqual(['a', 'b']);
    // Not knowing is not holding.
    expect(await m.leaseFor('inventory')).toBe(false);
    await m.close({ leave: false });
  });

  it('refuses a TTL shorter than two heartbeats', () => {
    expect(() => new MembershipService(fakeRedis().redis, { kind: 'consul', prefix: '{rb}', heartbeatMs: 2000, ttlMs: 3000 })).toThrow(/at least twice/);
  });
});
