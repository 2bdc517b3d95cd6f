import fc from 'fast-check';
import { BlockingPool, PoolCandidate, rankForPool } from './blocking-pool';

const c = (name: string, lastChangeAt = 0, excluded = false): PoolCandidate => ({ name, lastChangeAt, excluded });

describe('rankForPool', () => {
  it.each<[string, PoolCandidate[], number, string[], string[]]>([
    ['all fit', [c('b'), c('a')], 5, ['a', 'b'], []],
    ['most recently changed first', [c('a', 1), c('b', 3), c('c', 2)], 2, ['b', 'c'], ['a']],
    ['ties by name', [c('c', 1), c('a', 1), c('b', 1)], 1, ['a'], ['b', 'c']],
    ['proxy-only services neither pooled nor polled', [c('a', 9, true), c('b', 1), c('c', 0)], 1, ['b'], ['c']],
    ['an empty pool polls everything', [c('a', 1), c('b', 2)], 0, [], ['b', 'a']],
  ])('%s', (_name, owned, size, pooled, polled) => {
    expect(rankForPool(owned, size)).toEqual({ pooled, polled });
  });

  it('splits the watched services into a bounded pool of the most recent and the polled rest, whatever the input order', () => {
    const candidates = fc.uniqueArray(fc.record({ name: fc.string({ minLength: 1, maxLength: 4 }), lastChangeAt: fc.nat(5), excluded: fc.boolean() }), { selector: (x) => x.name, maxLength: 12 });
    fc.assert(
      fc.property(candidates, fc.nat(14), fc.nat(), (owned, size, seed) => {
        const { pooled, polled } = rankForPool(owned, size);
        const watched = owned.filter((s) => !s.excluded);
        expect(pooled).toHaveLength(Math.min(size, watched.length));
        expect([...pooled, ...polled].sort()).toEqual(watched.map((s) => s.name).sort());
        const at = new Map(owned.map((s) => [s.name, s.lastChangeAt]));
        const oldestPooled = Math.min(...pooled.map((n) => at.get(n) as number));
        for (const n of polled) expect(at.get(n)).toBeLessThanOrEqual(oldestPooled);
        const shuffled = [...owned].sort((a, b) => ((a.name.charCodeAt(0) * 31 + seed) % 7) - ((b.name.charCodeAt(0) * 31 + seed) % 7));
        expect(rankForPool(shuffled, size)).toEqual({ pooled, polled });
      }),
    );
  });
});

describe('BlockingPool', () => {
  const setup = () => {
    const stopped = new AbortController();
    const started = new Map<string, AbortSignal>();
    const pool = new BlockingPool(stopped.signal, (name, signal) => void started.set(name, signal));
    return { stopped, started, pool };
  };

  it('holds exactly the services assigned: starts the missing ones in order, ends the others', () => {
    const { started, pool } = setup();
    expect(pool.assign(['a', 'b'])).toEqual(['a', 'b']);
    const a = started.get('a') as AbortSignal;
    const b = started.get('b') as AbortSignal;
    expect(pool.assign(['c', 'a'])).toEqual(['c']);
    expect(pool.names().sort()).toEqual(['a', 'c']);
    expect(pool.size).toBe(2);
    expect(b.aborted).toBe(true);
    expect(a.aborted).toBe(false);
  });

  it('drop ends one query; a later assign starts it afresh', () => {
    const { started, pool } = setup();
    pool.assign(['a']);
    const first = started.get('a') as AbortSignal;
    pool.drop('a');
    expect(first.aborted).toBe(true);
    expect(pool.has('a')).toBe(false);
    expect(pool.assign(['a'])).toEqual(['a']);
    expect(started.get('a')?.aborted).toBe(false);
  });

  it('stopping the source ends every query', () => {
    const { stopped, started, pool } = setup();
    pool.assign(['a', 'b']);
    stopped.abort();
    expect([...started.values()].every((s) => s.aborted)).toBe(true);
  });
});
