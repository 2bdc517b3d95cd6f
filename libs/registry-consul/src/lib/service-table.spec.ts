import fc from 'fast-check';
import { ServiceState, ServiceTable } from './service-table';

const stateOf = (t: ServiceTable, name: string): ServiceState => {
  const st = t.get(name);
  if (!st) throw new Error(`${name} not in the table`);
  return st;
};
const table = () => new ServiceTable((name) => `src/${name}`);

describe('ServiceTable', () => {
  it('adds the owned services it lacks, drops the ones owned elsewhere, keeps the ones gone from the catalog', () => {
    const t = table();
    expect(t.sync(['a', 'b', 'c'], () => true)).toMatchObject({ added: ['a', 'b', 'c'], dropped: [] });
    stateOf(t, 'a').sent = true;
    // b moved to another replica; c left the catalog
    const r = t.sync(['a', 'b'], (key) => key !== 'src/b');
    expect(r.added).toEqual([]);
    expect(r.owned.map((s) => s.name)).toEqual(['a']);
    expect(r.dropped.map((s) => s.name)).toEqual(['b']);
    expect(t.get('a')).toMatchObject({ key: 'src/a', sent: true });
    expect(t.has('b')).toBe(false);
    expect(t.has('c')).toBe(true);
  });

  it('a second sync of the same names adds and drops nothing, and keeps the same state objects', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.constantFrom('a', 'b', 'c', 'd', 'e'), { maxLength: 5 }), fc.func(fc.boolean()), (names, owns) => {
        const t = table();
        const first = t.sync(names, owns);
        const second = t.sync(names, owns);
        expect(second.added).toEqual([]);
        expect(second.dropped).toEqual([]);
        expect(second.owned).toEqual(first.owned);
        second.owned.forEach((s, i) => expect(s).toBe(first.owned[i]));
        // every name is owned or not in the table
        for (const n of names) expect(t.has(n)).toBe(owns(`src/${n}`));
      }),
    );
  });

  it('finds the services with an instance on given nodes', () => {
    const t = table();
    t.sync(['a', 'b', 'c'], () => true);
    stateOf(t, 'a').nodes = new Set(['n1']);
    stateOf(t, 'b').nodes = new Set(['n2', 'n3']);
    expect(t.onNodes(new Set(['n3', 'n9']))).toEqual(['b']);
    expect(t.onNodes(new Set())).toEqual([]);
  });

  it('says a service read error once while it stays the same; errors outside any service always', () => {
    const t = table();
    t.sync(['a'], () => true);
    expect(t.noteError('a', 'refused')).toBe(true);
    expect(t.noteError('a', 'refused')).toBe(false);
    expect(t.noteError('a', 'timeout')).toBe(true);
    expect(t.noteError(undefined, 'refused')).toBe(true);
    expect(t.noteError(undefined, 'refused')).toBe(true);
    expect(t.noteError('gone', 'refused')).toBe(true);
  });

  it('read progress: pending until read, proxy-only services excluded, last errors kept', () => {
    const t = table();
    t.sync(['a', 'b', 'c'], () => true);
    stateOf(t, 'a').read = true;
    Object.assign(stateOf(t, 'b'), { read: true, excluded: true });
    t.noteError('c', 'connect ECONNREFUSED');
    const p = t.readProgress();
    expect(p.pending).toEqual(['c']);
    expect(p.excluded).toEqual(['b']);
    expect([...p.errors]).toEqual([['c', 'connect ECONNREFUSED']]);
  });
});
