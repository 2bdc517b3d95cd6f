import { Message, RecordProducer } from '@registry-bridge/contract';
import { SourceEmitter } from '@registry-bridge/source-kit';
import type { EurekaInstanceJson } from './eureka-payload';
import { appsOf, T0, testInstance as inst } from './eureka-instances.testing';
import { DEFAULT_NORMALIZE_OPTIONS } from './eureka-normalizer';
import { LocalCopyEmitter } from './local-copy.emitter';
import { LocalRegistry } from './local-registry';
import { PreparedAppCache } from './prepared-app.cache';

const source = { name: 'eureka-a', kind: 'eureka' as const };
describe('LocalCopyEmitter', () => {
  let sent: Message[];
  let now: number;
  let local: LocalRegistry;
  let cache: PreparedAppCache;
  let events: string[];
  const load = (instances: EurekaInstanceJson[]) => {
    local.replace({ hashCode: '', apps: appsOf(instances) });
    cache.clear();
  };
  const make = (emptyHoldMs = 0) => {
    const port = new RecordProducer({ add: async (_name, data) => void sent.push(data as Message) });
    const emitter = new SourceEmitter(source, { port, emptyHoldMs, now: () => now });
    const hooks = {
      emitted: (type: string, n: number) => void events.push(`${type}:${n}`),
      unchanged: (n: number) => void events.push(`unchanged:${n}`),
      dropped: (reason: string, n: number) => void events.push(`dropped:${reason}:${n}`),
    };
    return new LocalCopyEmitter(source, local, cache, emitter, hooks, () => now);
  };
  const types = () => sent.map((m) => m.type);

  beforeEach(() => {
    sent = [];
    events = [];
    now = T0;
    local = new LocalRegistry();
    cache = new PreparedAppCache(local, source, { ...DEFAULT_NORMALIZE_OPTIONS, source });
  });

  it('sends each app once, then only what changed; a complete emission ends with the snapshot', async () => {
    const e = make();
    load([inst('ORDERS', 'o1'), inst('PAY', 'p1')]);
    expect(await e.emit(true)).toEqual({ upserts: 2, removes: 0, unchanged: 0, snapshot: true });
    expect(types()).toEqual(['upsert', 'upsert', 'snapshot']);
    expect(events).toEqual(['upsert:2', 'snapshot:1']);
    sent = [];
    events = [];
    load([inst('ORDERS', 'o1'), inst('PAY', 'p1', 'DOWN')]);
    expect(await e.emit(false)).toEqual({ upserts: 1, removes: 0, unchanged: 1, snapshot: false });
    expect(sent.map((m) => m.type === 'upsert' && m.record.service)).toEqual(['pay']);
    expect(events).toEqual(['upsert:1', 'unchanged:1']);
  });

  it('removes a service no longer listed, above its last revision, and leaves it out of the snapshot', async () => {
    const e = make();
    load([inst('ORDERS', 'o1'), inst('PAY', 'p1')]);
    await e.emit(true);
    const last = sent.find((m) => m.type === 'upsert' && m.record.service === 'pay');
    sent = [];
    load([inst('ORDERS', 'o1')]);
    now += 1000;
    expect(await e.emit(true)).toMatchObject({ removes: 1, snapshot: true });
    const remove = sent.find((m) => m.type === 'remove');
    expect(remove).toMatchObject({ service: 'pay' });
    expect(remove?.type === 'remove' && last?.type === 'upsert' && remove.revision > last.record.revision).toBe(true);
    expect(sent.at(-1)).toMatchObject({ type: 'snapshot', services: [{ service: 'orders' }] });
  });

  it('holds removals and the snapshot while an empty read is held back', async () => {
    const e = make(60_000);
    load([inst('ORDERS', 'o1')]);
    await e.emit(true);
    sent = [];
    load([]);
    expect(await e.emit(true)).toEqual({ upserts: 0, removes: 0, unchanged: 0, snapshot: false, emptyHeld: true });
    expect(sent).toEqual([]);
  });

  it('sends one service for apps differing only in case: the first, sorted', async () => {
    const e = make();
    load([inst('ORDERS', 'o1'), inst('orders', 'o2', 'UP', { ipAddr: '10.0.0.2' })]);
    expect(await e.emit(true)).toMatchObject({ upserts: 1 });
    const upserts = sent.flatMap((m) => (m.type === 'upsert' ? [m.record] : []));
    expect(upserts.map((r) => r.endpoints.map((ep) => ep.address))).toEqual([['10.0.0.1']]);
  });

  it('counts the drops of a record when it is sent, not again while it is unchanged', async () => {
    const e = make();
    load([inst('ORDERS', 'o1'), inst('ORDERS', 'o2', 'UP', { ipAddr: '10.0.0.2', port: { $: 70000, '@enabled': 'true' } })]);
    await e.emit(true);
    const drops = events.filter((x) => x.startsWith('dropped:'));
    expect(drops.length).toBeGreaterThan(0);
    events = [];
    await e.emit(false);
    expect(events).toEqual(['unchanged:1']);
  });

  it('skips apps the filter leaves out', async () => {
    cache = new PreparedAppCache(local, source, { ...DEFAULT_NORMALIZE_OPTIONS, source }, { exclude: ['pay'] });
    const e = make();
    load([inst('ORDERS', 'o1'), inst('PAY', 'p1')]);
    await e.emit(true);
    expect(sent.at(-1)).toMatchObject({ type: 'snapshot', services: [{ service: 'orders' }] });
  });
});
