import fc from 'fast-check';
import type { RecordPort } from '@registry-bridge/source-kit';
import { CatalogWatch, diffCatalog } from './catalog-watch';
import { ConsulLineage } from './consul-lineage';
import { consulFiltersSchema } from './consul-source.schema';
import { consulEmitter, ConsulSourceStatus } from './consul-source-health';
import { quietLog, ScriptedConsul, watchContext } from './consul-watch.testing';
import { NOOP_CONSUL_METRICS } from './consul-watch.types';
import { ServiceFilter } from './service-filter';
import { ServiceState, ServiceTable } from './service-table';

const stateOf = (t: ServiceTable, name: string): ServiceState => {
  const st = t.get(name);
  if (!st) throw new Error(`${name} not in the table`);
  return st;
};

describe('diffCatalog', () => {
  const keepAll = () => undefined;
  it.each<[string, Record<string, string[]>, Record<string, string[] | null>, string[], string[]]>([
    ['first listing: every service is new', {}, { web: [], api: ['v1'] }, ['web', 'api'], []],
    ['nothing moved', { web: ['a'] }, { web: ['a'] }, [], []],
    ['a tag changed', { web: ['a'] }, { web: ['a', 'b'] }, ['web'], []],
    ['a service went', { web: [], api: [] }, { api: [] }, [], ['web']],
    ['null tags read as none', { web: [] }, { web: null }, [], []],
  ])('%s', (_name, previous, body, touched, gone) => {
    const d = diffCatalog(new Map(Object.entries(previous)), body, keepAll);
    expect(d.touched).toEqual(touched);
    expect(d.gone).toEqual(gone);
  });

  it('leaves out what the filters skip, and drops tags that are not strings', () => {
    const d = diffCatalog(new Map(), { web: ['a', 7 as unknown as string], consul: [] }, (name) => (name === 'consul' ? 'consul' : undefined));
    expect([...d.next]).toEqual([['web', ['a']]]);
  });

  it('applying the diff to the last listing gives the new one', () => {
    const listing = fc.dictionary(fc.constantFrom('a', 'b', 'c', 'd'), fc.array(fc.constantFrom('x', 'y'), { maxLength: 2 }));
    fc.assert(
      fc.property(listing, listing, (before, after) => {
        const d = diffCatalog(new Map(Object.entries(before)), after, () => undefined);
        expect(Object.fromEntries(d.next)).toEqual(after);
        const unchanged = Object.keys(after).filter((n) => !d.touched.includes(n));
        for (const n of unchanged) expect(before[n]).toEqual(after[n]);
        expect(d.gone.sort()).toEqual(Object.keys(before).filter((n) => !(n in after)).sort());
      }),
    );
  });
});

class RecordingPort implements RecordPort {
  snapshots: Array<{ complete: boolean; services: Array<{ service: string }> }> = [];
  statuses: Array<{ reachable: boolean }> = [];
  upsert = async () => undefined;
  remove = async () => undefined;
  async snapshot(m: { complete: boolean; services: Array<{ service: string }> }) {
    this.snapshots.push(m);
  }
  async sourceStatus(s: { reachable: boolean }) {
    this.statuses.push(s);
  }
}

/** A Consul whose catalog and cluster id the spec sets. */
function fakeConsul() {
  const state = { catalog: {} as Record<string, string[]>, index: 10, filtered: false, trustDomain: 'aaaa-bbbb.consul' };
  const scripted = new ScriptedConsul((path) =>
    path === '/v1/connect/ca/roots' ? { body: { TrustDomain: state.trustDomain }, index: 1 } : { body: { ...state.catalog }, index: state.index, filteredByAcl: state.filtered },
  );
  return { consul: state, client: scripted.client };
}

function setup() {
  const { consul, client } = fakeConsul();
  const port = new RecordingPort();
  const quiet = quietLog;
  const ctx = watchContext(client);
  const emitter = consulEmitter('consul-dc1', { port });
  const table = new ServiceTable((name) => `consul-dc1//${name}`);
  const seen = { touched: [] as string[], dropped: [] as string[], restarted: 0, rebalanced: 0, progress: 0, lease: true };
  const lineage = new ConsulLineage('consul-dc1', client, quiet, Date.now);
  const watch = new CatalogWatch(ctx, {
    hasToken: false,
    filter: new ServiceFilter(consulFiltersSchema.parse({})),
    table,
    emitter,
    ownership: { owns: () => true, snapshotLease: async () => seen.lease },
    lineage,
    health: new ConsulSourceStatus('consul-dc1', false, emitter, quiet, NOOP_CONSUL_METRICS, Date.now),
    touched: (n) => void seen.touched.push(n),
    dropped: (n) => void seen.dropped.push(n),
    lineageRestarted: () => void seen.restarted++,
    rebalance: () => {
      seen.rebalanced++;
      table.sync(watch.names(), () => true);
    },
    progress: () => void seen.progress++,
  });
  const signal = new AbortController().signal;
  return { consul, port, emitter, table, seen, watch, lineage, step: () => watch.step(signal, 0) };
}

describe('CatalogWatch', () => {
  it('lists the services, hands them out, and sends a complete snapshot', async () => {
    const { consul, port, seen, watch, step } = setup();
    consul.catalog = { web: [], api: ['v1'], consul: [] };
    await step();
    expect([...watch.names()]).toEqual(['web', 'api']);
    expect(seen.touched).toEqual(['web', 'api']);
    expect(seen).toMatchObject({ rebalanced: 1, progress: 1 });
    expect(port.snapshots).toEqual([expect.objectContaining({ complete: true, services: [{ service: 'api' }, { service: 'web' }] })]);
    expect(port.statuses.at(-1)).toMatchObject({ reachable: true });
  });

  it('an unchanged answer applies nothing until a snapshot is due', async () => {
    const { consul, seen, step } = setup();
    consul.catalog = { web: [] };
    await step();
    await step();
    expect(seen.rebalanced).toBe(1);
  });

  it('a service gone from an unfiltered answer is removed when it was sent, forgotten otherwise', async () => {
    const { consul, port, emitter, table, seen, step } = setup();
    const remove = jest.spyOn(emitter, 'remove').mockResolvedValue(true);
    const forget = jest.spyOn(emitter, 'forget');
    consul.catalog = { web: [], api: [] };
    await step();
    stateOf(table, 'web').sent = true;
    consul.catalog = {};
    consul.index = 20;
    await step();
    expect(remove.mock.calls).toEqual([[{ service: 'web', scope: undefined, lineage: undefined }, 20]]);
    expect(forget.mock.calls).toEqual([['consul-dc1//api']]);
    expect(seen.dropped.sort()).toEqual(['api', 'web']);
    expect(table.has('web')).toBe(false);
    expect(port.snapshots.at(-1)).toMatchObject({ complete: true, services: [] });
  });

  it('a filtered answer removes nothing and its snapshot is incomplete', async () => {
    const { consul, port, emitter, table, seen, step } = setup();
    const remove = jest.spyOn(emitter, 'remove');
    consul.catalog = { web: [] };
    await step();
    stateOf(table, 'web').sent = true;
    consul.catalog = {};
    consul.filtered = true;
    consul.index = 20;
    await step();
    expect(remove).not.toHaveBeenCalled();
    expect(seen.dropped).toEqual([]);
    expect(table.has('web')).toBe(true);
    expect(port.snapshots.at(-1)).toMatchObject({ complete: false, services: [] });
  });

  it('sends no snapshot without the lease, and sends one at once when the lease comes', async () => {
    const { consul, port, seen, step } = setup();
    seen.lease = false;
    consul.catalog = { web: [] };
    await step();
    expect(port.snapshots).toEqual([]);
    seen.lease = true;
    await step(); // same index: applied only because a snapshot is now due
    expect(port.snapshots).toEqual([expect.objectContaining({ complete: true, services: [{ service: 'web' }] })]);
  });

  it.each`
    case                          | trustDomain           | index  | restarted
    ${'Consul rebuilt'}           | ${'cccc-dddd.consul'} | ${7}   | ${1}
    ${'same cluster, stale read'} | ${'aaaa-bbbb.consul'} | ${495} | ${0}
  `('index went backwards ($case): lineage restarted $restarted time(s)', async ({ trustDomain, index, restarted }) => {
    const { consul, seen, lineage, step } = setup();
    lineage.current = await lineage.read(new AbortController().signal);
    consul.index = 500;
    consul.catalog = { web: [] };
    await step();
    consul.trustDomain = trustDomain;
    consul.index = index;
    await step();
    expect(seen.restarted).toBe(restarted);
  });
});
