import { decodeApplications, type EurekaInstanceJson } from './eureka-payload';
import { LocalRegistry, sameInstanceContent } from './local-registry';
import { reconcileHashCode } from './reconcile-hash';

const inst = (app: string, id: string, status = 'UP', actionType?: string) => ({ app, instanceId: id, hostName: `${id}.local`, status, ...(actionType && { actionType }) });
const payload = (hash: string, ...instances: ReturnType<typeof inst>[]) =>
  decodeApplications({
    applications: {
      apps__hashcode: hash,
      application: [...new Set(instances.map((i) => i.app))].map((name) => ({ name, instance: instances.filter((i) => i.app === name) })),
    },
  });

describe('LocalRegistry', () => {
  it('replaces on a full fetch and computes the hash like the server', () => {
    const r = new LocalRegistry();
    r.replace(payload('DOWN_1_UP_2_', inst('A', 'a1'), inst('A', 'a2', 'DOWN'), inst('B', 'b1')));
    expect(r.appNames()).toEqual(['A', 'B']);
    expect(r.hashCode()).toBe('DOWN_1_UP_2_');
  });

  it('applies ADDED, MODIFIED and DELETED by instance id', () => {
    const r = new LocalRegistry();
    r.replace(payload('UP_2_', inst('A', 'a1'), inst('B', 'b1')));
    const res = r.applyDelta(payload('', inst('A', 'a2', 'UP', 'ADDED'), inst('A', 'a1', 'DOWN', 'MODIFIED'), inst('B', 'b1', 'UP', 'DELETED')));
    expect([...res.touched].sort()).toEqual(['A', 'B']);
    expect(r.appNames()).toEqual(['A']);
    expect(r.instances('A').map((i) => [i.instanceId, i.status])).toEqual([
      ['a1', 'DOWN'],
      ['a2', 'UP'],
    ]);
    expect(r.hashCode()).toBe('DOWN_1_UP_1_');
  });

  it('is idempotent when the same delta is seen twice (deltas overlap between polls)', () => {
    const r = new LocalRegistry();
    r.replace(payload('UP_1_', inst('A', 'a1')));
    const d = payload('', inst('A', 'a2', 'UP', 'ADDED'), inst('A', 'a1', 'UP', 'DELETED'));
    r.applyDelta(d);
    r.applyDelta(d);
    expect(r.hashCode()).toBe('UP_1_');
    expect(r.instances('A').map((i) => i.instanceId)).toEqual(['a2']);
  });

  it('skips entries without id or with an unknown action, and deleting an unknown instance is harmless', () => {
    const r = new LocalRegistry();
    const res = r.applyDelta(
      decodeApplications({
        applications: {
          application: { name: 'A', instance: [{ app: 'A', status: 'UP', actionType: 'ADDED' }, { ...inst('A', 'x'), actionType: 'WHATEVER' }, inst('A', 'gone', 'UP', 'DELETED')] },
        },
      }),
    );
    expect(res.skipped).toBe(2);
    expect(r.size).toBe(0);
  });

  it('keeps the hash and the sorted names in step through deltas (same as recounting everything)', () => {
    const r = new LocalRegistry();
    r.replace(payload('', inst('B', 'b1'), inst('A', 'a1', 'DOWN')));
    const recount = () => reconcileHashCode(r.appNames().map((a) => r.instances(a)));
    const steps = [
      payload('', inst('C', 'c1', 'STARTING', 'ADDED')),
      payload('', inst('A', 'a1', 'UP', 'MODIFIED'), inst('A', 'a1', 'UP', 'MODIFIED')),
      payload('', inst('B', 'b1', 'UP', 'DELETED'), inst('B', 'b1', 'UP', 'DELETED')),
      payload('', inst('A', 'nobody', 'DOWN', 'DELETED')),
      payload('', inst('A', 'a1', 'UP', 'DELETED'), inst('C', 'c1', 'UP', 'MODIFIED')),
    ];
    const names: string[][] = [];
    for (const d of steps) {
      r.applyDelta(d);
      expect(r.hashCode()).toBe(recount());
      names.push([...r.appNames()]);
    }
    expect(names).toEqual([['A', 'B', 'C'], ['A', 'B', 'C'], ['A', 'C'], ['A', 'C'], ['C']]);
    expect(r.hashCode()).toBe('UP_1_');
  });

  it('a delta that repeats what the copy already has touches nothing (Eureka re-lists the last three minutes)', () => {
    const r = new LocalRegistry();
    r.replace(payload('UP_2_', inst('A', 'a1'), inst('B', 'b1')));
    const repeated = payload('', inst('A', 'a1', 'UP', 'MODIFIED'), inst('C', 'c9', 'UP', 'DELETED'));
    expect([...r.applyDelta(repeated).touched]).toEqual([]);
    const renewed = decodeApplications({ applications: { application: { name: 'A', instance: { ...inst('A', 'a1', 'UP', 'ADDED'), leaseInfo: { lastRenewalTimestamp: 2 } } } } });
    expect([...r.applyDelta(renewed).touched]).toEqual([]);
    const changed = payload('', inst('A', 'a1', 'UP', 'MODIFIED'), { ...inst('B', 'b1', 'UP', 'MODIFIED'), hostName: 'b1.other' });
    expect([...r.applyDelta(changed).touched]).toEqual(['B']);
    expect(r.instances('B')[0].hostName).toBe('b1.other');
    expect(r.hashCode()).toBe('UP_2_');
  });
});

describe('sameInstanceContent', () => {
  it.each<[string, object, object, boolean]>([
    ['key order aside', { a: 1, m: { x: '1', y: '2' } }, { m: { y: '2', x: '1' }, a: 1 }, true],
    ['action and lease aside', { a: 1, actionType: 'ADDED', leaseInfo: { r: 1 } }, { a: 1, actionType: 'MODIFIED' }, true],
    ['a nested value', { port: { $: 80 } }, { port: { $: 81 } }, false],
    ['a missing key', { a: 1, b: undefined }, { a: 1, c: undefined }, false],
    ['an array element', { v: [1, 2] }, { v: [1, 3] }, false],
    ['an array against an object', { v: [] }, { v: {} }, false],
  ])('%s', (_name, a, b, same) => {
    expect(sameInstanceContent(a as EurekaInstanceJson, b as EurekaInstanceJson)).toBe(same);
  });
});
