import { rendezvousOwner } from './rendezvous';

const keys = Array.from({ length: 3000 }, (_, i) => `consul-dc1//svc-${i}`);
const members = ['a-1-x', 'b-2-y', 'c-3-z', 'd-4-w'];
const ownersOf = (ms: string[]) => new Map(keys.map((k) => [k, rendezvousOwner(k, ms)]));

describe('rendezvousOwner', () => {
  it('has no owner without members and one owner with one member', () => {
    expect(rendezvousOwner('k', [])).toBeUndefined();
    expect(rendezvousOwner('k', ['only'])).toBe('only');
  });

  it('does not depend on the order of members', () => {
    for (const k of keys.slice(0, 100)) expect(rendezvousOwner(k, [...members].reverse())).toBe(rendezvousOwner(k, members));
  });

  it('moves only the keys of a removed member', () => {
    const before = ownersOf(members);
    const after = ownersOf(members.filter((m) => m !== 'b-2-y'));
    for (const k of keys) {
      if (before.get(k) !== 'b-2-y') expect(after.get(k)).toBe(before.get(k));
      else expect(after.get(k)).not.toBe('b-2-y');
    }
  });

  it('takes keys only for the added member', () => {
    const before = ownersOf(members);
    const after = ownersOf([...members, 'e-5-v']);
    const moved = keys.filter((k) => after.get(k) !== before.get(k));
    expect(moved.every((k) => after.get(k) === 'e-5-v')).toBe(true);
    expect(moved.length / keys.length).toBeGreaterThan(0.15);
    expect(moved.length / keys.length).toBeLessThan(0.25);
  });

  it('balances roughly evenly', () => {
    const counts = new Map<string, number>();
    for (const owner of ownersOf(members).values()) counts.set(owner as string, (counts.get(owner as string) ?? 0) + 1);
    for (const m of members) {
      expect(counts.get(m)).toBeGreaterThan((keys.length / members.length) * 0.85);
      expect(counts.get(m)).toBeLessThan((keys.length / members.length) * 1.15);
    }
  });
});
