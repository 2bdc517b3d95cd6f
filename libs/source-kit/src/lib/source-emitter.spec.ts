import fc from 'fast-check';
import { Message, RecordProducer, ServiceRecordInput } from '@registry-bridge/contract';
import { registryRevision, SourceEmitter, SourceEmitterOptions, StatusPort } from './source-emitter';

const source = { name: 'consul-dc1', kind: 'consul' as const };
const content = (over: Partial<ServiceRecordInput> = {}) => ({
  source,
  service: 'web',
  ports: [{ name: 'http', number: 80 }],
  endpoints: [{ id: 'web-1', address: '10.0.0.1', health: 'healthy' as const }],
  metadata: {},
  ...over,
});

function setup(over: Partial<SourceEmitterOptions> = {}) {
  const messages: Message[] = [];
  let clock = 1_000_000;
  let failing = false;
  const port = new RecordProducer({
    add: async (_name, data) => {
      if (failing) throw new Error('redis down');
      messages.push(data as Message);
    },
  });
  const emitter = new SourceEmitter(source, { port, now: () => clock, ...over });
  return { emitter, messages, advance: (ms: number) => (clock += ms), fail: (f: boolean) => (failing = f) };
}

describe('SourceEmitter', () => {
  it('sends a record once per content, ignoring reordering', async () => {
    const { emitter, messages } = setup();
    expect(await emitter.upsert(content(), 7)).toBe(7);
    expect(await emitter.upsert(content(), 8)).toBeUndefined();
    expect(messages.map((m) => m.type)).toEqual(['upsert']);
  });

  it('a failed send is forgotten: the next read sends it again', async () => {
    const { emitter, messages, fail } = setup();
    fail(true);
    await expect(emitter.upsert(content(), 1)).rejects.toThrow('redis down');
    fail(false);
    expect(await emitter.upsert(content(), 1)).toBe(1);
    expect(messages).toHaveLength(1);
  });

  it('revisions never go back per key, whatever the registry counter does', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.nat({ max: 1000 }), { minLength: 1, maxLength: 20 }), async (counters) => {
        const { emitter, messages } = setup();
        for (const [i, c] of counters.entries()) await emitter.upsert(content({ metadata: { i: String(i) } }), c);
        const revs = messages.flatMap((m) => (m.type === 'upsert' ? [m.record.revision] : []));
        for (let i = 1; i < revs.length; i++) expect(revs[i]).toBeGreaterThanOrEqual(revs[i - 1]);
      }),
    );
  });

  it.each`
    registry | last         | expected
    ${5}     | ${undefined} | ${5}
    ${6}     | ${5}         | ${6}
    ${5}     | ${5}         | ${5}
    ${3}     | ${5}         | ${6}
  `('registryRevision($registry, last $last) = $expected', ({ registry, last, expected }) => {
    expect(registryRevision(registry, last, 0)).toBe(expected);
  });

  it('a removal outranks the last upsert, is sent only for a key sent before, and forgets it', async () => {
    const { emitter, messages } = setup();
    expect(await emitter.remove({ service: 'web' })).toBe(false);
    await emitter.upsert(content(), 9);
    expect(await emitter.remove({ service: 'web' }, 3)).toBe(true);
    expect(await emitter.remove({ service: 'web' })).toBe(false);
    expect(messages.filter((m) => m.type === 'remove')).toEqual([expect.objectContaining({ service: 'web', revision: 10 })]);
    expect(emitter.sentKeys()).toEqual([]);
  });

  it('a registry may keep a removal at the last revision sent (the writer breaks the tie by observedAt)', async () => {
    const { emitter, messages } = setup({ removalRevision: (_registry, last) => last });
    await emitter.upsert(content(), 9);
    await emitter.remove({ service: 'web' }, 3);
    expect(messages.filter((m) => m.type === 'remove')).toEqual([expect.objectContaining({ revision: 9 })]);
  });

  it('snapshot epochs only grow', async () => {
    const { emitter } = setup();
    const a = await emitter.snapshot([{ service: 'web' }], true);
    const b = await emitter.snapshot([{ service: 'web' }], true);
    const c = await emitter.snapshot([{ service: 'web' }], true, a - 50);
    expect(b).toBeGreaterThan(a);
    expect(c).toBeGreaterThan(b);
  });

  it('holds an empty read after a non-empty one for emptyHoldMs, then believes it', async () => {
    const { emitter, advance } = setup({ emptyHoldMs: 1000 });
    expect(emitter.holdEmpty(0)).toBe(false); // nothing sent yet: empty is just empty
    await emitter.upsert(content(), 1);
    expect(emitter.holdEmpty(0)).toBe(true);
    advance(999);
    expect(emitter.holdEmpty(0)).toBe(true);
    advance(1);
    expect(emitter.holdEmpty(0)).toBe(false);
    expect(emitter.holdEmpty(1)).toBe(false);
    expect(setup().emitter.holdEmpty(0)).toBe(false);
  });

  it('reports status through the status port, or straight to the queue without one', async () => {
    const reports: unknown[] = [];
    const status: StatusPort = { reportChange: async (s, u) => void reports.push([s, u]) };
    const viaPort = setup({ status });
    await viaPort.emitter.status({ reachable: false, error: 'x'.repeat(5000), conditions: { services: 3 } });
    expect(reports).toEqual([['consul-dc1', { reachable: false, error: expect.stringMatching(/^x+$/), conditions: { services: 3 } }]]);
    expect((reports[0] as [string, { error: string }])[1].error.length).toBeLessThan(5000);
    expect(viaPort.messages).toEqual([]);

    const direct = setup();
    await direct.emitter.status({ reachable: true, conditions: {} });
    expect(direct.messages).toEqual([expect.objectContaining({ type: 'sourceStatus', reachable: true, lastSuccessAt: new Date(1_000_000).toISOString() })]);
    expect(direct.emitter.health()).toEqual({ reachable: true, lastSuccessAt: 1_000_000, conditions: {} });
  });

  it('after a Redis reset sends unchanged records again, with revisions that keep growing', async () => {
    const { emitter, messages } = setup();
    await emitter.upsert(content(), 4);
    emitter.resendAll();
    expect(await emitter.upsert(content(), 4)).toBe(4);
    expect(await emitter.upsert(content({ metadata: { v: '2' } }), 2)).toBe(5);
    expect(messages.filter((m) => m.type === 'upsert')).toHaveLength(3);
  });
});
