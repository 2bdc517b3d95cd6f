import { ServiceRecordInput } from '@registry-bridge/contract';
import type { RecordPort } from '@registry-bridge/source-kit';
import { ConsulRequestError } from './consul-http.client';
import { ConsulHealthEntry } from './consul-normalize';
import { consulSourceSchema } from './consul-source.schema';
import { consulEmitter } from './consul-source-health';
import { RecordingLog, ScriptedConsul, watchContext } from './consul-watch.testing';
import { ServiceFilter } from './service-filter';
import { ServiceReader } from './service-reader';
import { ServiceState, ServiceTable } from './service-table';

const inst = (id: string, kind?: string): ConsulHealthEntry => ({
  Node: { Node: 'n1', Address: '10.0.0.1' },
  Service: { ID: id, Service: 'web', Port: 80, ...(kind && { Kind: kind }) },
  Checks: [{ CheckID: 'c', Status: 'passing' }],
});

function setup(owns = true) {
  const answer = { entries: [inst('web-1')] as ConsulHealthEntry[], index: 12, filtered: false };
  const consul = new ScriptedConsul(() => ({ body: answer.entries, index: answer.index, filteredByAcl: answer.filtered }));
  const upserts: ServiceRecordInput[] = [];
  const port: RecordPort = { upsert: async (r) => void upserts.push(r), remove: async () => undefined, snapshot: async () => undefined, sourceStatus: async () => undefined };
  const log = new RecordingLog();
  const seen = { hidden: [] as Array<[string, boolean]>, progress: 0, changed: [] as string[] };
  const config = consulSourceSchema.parse({ name: 'consul-dc1', address: 'http://127.0.0.1:8500' });
  const reader = new ServiceReader(watchContext(consul.client, { log }), {
    source: { name: 'consul-dc1', kind: 'consul' },
    config,
    hasToken: true,
    filter: new ServiceFilter(config.filters),
    emitter: consulEmitter('consul-dc1', { port }),
    ownership: { owns: () => owns, snapshotLease: async () => true },
    stopped: new AbortController().signal,
    lineage: () => 'consul-aaaa',
    centralProtocol: () => undefined,
    aclHidden: (name, hidden) => void seen.hidden.push([name, hidden]),
    progress: () => void seen.progress++,
    changed: (st) => void seen.changed.push(st.name),
  });
  const table = new ServiceTable((name) => `consul-dc1//${name}`);
  table.sync(['web'], () => true);
  const st = table.get('web') as ServiceState;
  const signal = new AbortController().signal;
  return { answer, consul, upserts, log, seen, st, read: (pooled: boolean, failures = 0) => reader.read(st, pooled, signal, failures) };
}

describe('ServiceReader', () => {
  it('sends a record on the first read, blocks on its index in the pool, and never in a poll', async () => {
    const { consul, upserts, seen, st, read } = setup();
    await read(true);
    expect(upserts).toEqual([expect.objectContaining({ service: 'web', revision: 12, lineage: 'consul-aaaa' })]);
    expect(st).toMatchObject({ index: 12, sent: true, read: true, nodes: new Set(['n1']) });
    expect(seen.progress).toBe(1);
    await read(true);
    await read(false);
    await read(true, 1);
    expect(consul.requests.map((r) => [r.index, r.timeoutMs])).toEqual([
      [0, undefined],
      [12, undefined],
      [0, undefined],
      [0, 1000],
    ]);
  });

  it('a change after the first record marks the service hot; an unchanged answer sends nothing', async () => {
    const { answer, upserts, seen, st, read } = setup();
    await read(true);
    expect(seen.changed).toEqual([]);
    answer.index = 13;
    await read(true);
    expect(upserts).toHaveLength(1);
    answer.entries = [inst('web-1'), inst('web-2')];
    answer.index = 14;
    await read(true);
    expect(upserts).toHaveLength(2);
    expect(seen.changed).toEqual(['web']);
    expect(st.lastChangeAt).toBeGreaterThan(0);
  });

  it('an answer with no instance after a record was sent sends nothing (the catalog decides a removal)', async () => {
    const { answer, upserts, read } = setup();
    await read(true);
    answer.entries = [];
    answer.index = 13;
    await read(true);
    expect(upserts).toHaveLength(1);
  });

  it('refuses an answer Consul filtered by ACLs, naming node:read, and holds the record', async () => {
    const { answer, upserts, seen, read } = setup();
    await read(true);
    answer.filtered = true;
    answer.entries = [];
    answer.index = 13;
    await expect(read(true)).rejects.toEqual(expect.objectContaining<Partial<ConsulRequestError>>({ kind: 'acl', message: expect.stringMatching(/hid instances of web.*node:read/) }));
    expect(upserts).toHaveLength(1);
    expect(seen.hidden).toEqual([
      ['web', false],
      ['web', true],
    ]);
  });

  it('a service of proxies only is excluded, said once, and never sent', async () => {
    const { answer, upserts, log, st, read } = setup();
    answer.entries = [inst('web-sidecar', 'connect-proxy')];
    await read(false);
    answer.index = 13;
    await read(false);
    expect(st.excluded).toBe(true);
    expect(upserts).toEqual([]);
    expect(log.of('info')).toEqual([expect.stringMatching(/only Connect proxy\/gateway instances/)]);
  });

  it('a service owned elsewhere now is read but not sent', async () => {
    const { upserts, st, read } = setup(false);
    await read(false);
    expect(upserts).toEqual([]);
    expect(st).toMatchObject({ read: true, sent: false });
  });
});
