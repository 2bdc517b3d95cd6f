import { ServiceRecordInput, serviceRecordSchema } from '@registry-bridge/contract';
import { SourceRules, sourceRules, translateRecord } from '@registry-bridge/translation';
import { writerConfigSchema } from '@registry-bridge/config';
import { DiffReport, exitCodeOf, LiveObject, planDiff, PlanInput, SourceRead } from './plan-diff';

const NS = 'mesh';
const rules = sourceRules({
  installation: 'it',
  defaults: writerConfigSchema.shape.defaults.parse({ namespace: NS }),
  sources: {
    'consul-dc1': { kind: 'consul' },
    'eureka-a': { kind: 'eureka', endpointMode: 'workloadEntry' },
    'consul-evil': { kind: 'consul', hostTemplate: '{service}.bank.example' },
  },
});

function rec(source: string, service: string, addresses: string[], over: Partial<ServiceRecordInput> = {}): ServiceRecordInput {
  const kind = source.startsWith('eureka') ? 'eureka' : 'consul';
  return {
    source: { name: source, kind },
    service,
    ports: [{ name: 'http', number: 8080, protocol: 'HTTP' }],
    endpoints: addresses.map((address, i) => ({ id: `${service}-${i}`, address, health: 'healthy' as const })),
    revision: 1,
    observedAt: '2026-01-01T00:00:00Z',
    ...over,
  };
}

/** The objects the writer would have written for a record: the "already in sync" live state. */
function written(r: ServiceRecordInput): LiveObject[] {
  const res = translateRecord(serviceRecordSchema.parse(r), rules.get(r.source.name) as SourceRules);
  if (!res.ok) throw new Error(res.detail);
  return [res.serviceEntry, ...res.workloadEntries].map((o) => JSON.parse(JSON.stringify(o)) as LiveObject);
}

function read(source: string, records: ServiceRecordInput[], over: Partial<SourceRead> = {}): SourceRead {
  const kind = source.startsWith('eureka') ? 'eureka' : 'consul';
  const keys = records.map((r) => `${source}//${r.service}`);
  return { source, kind, records, snapshotKeys: keys, complete: true, unread: [], ...over };
}

function plan(reads: SourceRead[], live: LiveObject[], deletion = { gracePeriodSeconds: 60, maxDeletes: 20, maxDeletePercent: 10 }): DiffReport {
  const input: PlanInput = { installation: 'it', rules: new Map([...rules].filter(([s]) => reads.some((r) => r.source === s) || s === 'consul-dc1')), reads, live, deletion };
  return planDiff(input);
}

const foreign = (name: string, host: string): LiveObject => ({ kind: 'ServiceEntry', metadata: { name, namespace: NS, labels: { team: 'other' } }, spec: { hosts: [host] } });

describe('planDiff', () => {
  it('a new service is added, an identical one is unchanged', () => {
    const web = rec('consul-dc1', 'web', ['10.0.0.1']);
    const api = rec('consul-dc1', 'api', ['10.0.0.2']);
    const r = plan([read('consul-dc1', [web, api])], written(api));
    expect(r.added.map((a) => [a.kind, a.key, a.host])).toEqual([['ServiceEntry', 'consul-dc1//web', 'web.service.consul']]);
    expect(r.unchanged.map((u) => u.key)).toEqual(['consul-dc1//api']);
    expect(r.changed).toEqual([]);
    expect(exitCodeOf(r)).toBe(2);
  });

  it('nothing to do gives exit code 0', () => {
    const api = rec('consul-dc1', 'api', ['10.0.0.2']);
    const r = plan([read('consul-dc1', [api])], written(api));
    expect(r.added.length + r.changed.length + r.deleted.length).toBe(0);
    expect(exitCodeOf(r)).toBe(0);
  });

  it('a drifted object is changed, with a field-level diff naming the endpoint', () => {
    const before = rec('consul-dc1', 'web', ['10.0.0.1', '10.0.0.2']);
    const after = rec('consul-dc1', 'web', ['10.0.0.1', '10.0.0.3']);
    const r = plan([read('consul-dc1', [after])], written(before));
    expect(r.changed).toHaveLength(1);
    expect(r.changed[0].fields).toEqual([{ path: 'spec.endpoints[1].address', old: '10.0.0.2', new: '10.0.0.3' }]);
  });

  it('a hand edit of our label is a change; labels others added are not', () => {
    const web = rec('consul-dc1', 'web', ['10.0.0.1']);
    const [se] = written(web);
    se.metadata.labels = { ...se.metadata.labels, 'registry-bridge.io/source': 'x', extra: 'y' };
    const r = plan([read('consul-dc1', [web])], [se]);
    expect(r.changed[0].fields).toEqual([{ path: 'metadata.labels["registry-bridge.io/source"]', old: 'x', new: 'consul-dc1' }]);
  });

  it.each([
    ['host outside the allow-list', 'consul-evil', 'pay', 'host-not-allowed'],
    ['invalid host', 'consul-dc1', 'bad..name', 'host-invalid'],
  ])('refuses: %s', (_n, source, service, reason) => {
    const r = plan([read(source, [rec(source, service, ['10.0.0.1'])])], []);
    expect(r.refused.map((x) => x.reason)).toEqual([reason]);
    expect(r.added).toEqual([]);
  });

  it('refuses a record of a source the writer does not know', () => {
    const r = plan([read('consul-dc9', [rec('consul-dc9', 'web', ['10.0.0.1'])])], []);
    expect(r.refused).toMatchObject([{ key: 'consul-dc9//web', reason: 'source-not-configured' }]);
  });

  it('refuses a host already used by a foreign ServiceEntry', () => {
    const r = plan([read('consul-dc1', [rec('consul-dc1', 'web', ['10.0.0.1'])])], [foreign('theirs', 'web.service.consul')]);
    expect(r.refused).toMatchObject([{ key: 'consul-dc1//web', reason: 'host-collision', detail: expect.stringContaining(`${NS}/theirs`) }]);
  });

  it('refuses the second of two services rendering the same host; the live holder keeps it', () => {
    // `Web` and `web` are two Consul services (case matters there) but one host.
    const upper = rec('consul-dc1', 'Web', ['10.0.0.1']);
    const lower = rec('consul-dc1', 'web', ['10.0.0.2']);
    const fresh = plan([read('consul-dc1', [lower, upper])], []);
    expect(fresh.added.map((a) => a.key)).toEqual(['consul-dc1//Web']);
    expect(fresh.refused).toMatchObject([{ key: 'consul-dc1//web', reason: 'host-collision', detail: expect.stringContaining('consul-dc1//Web') }]);
    const held = plan([read('consul-dc1', [lower, upper])], written(lower));
    expect(held.unchanged.map((u) => u.key)).toEqual(['consul-dc1//web']);
    expect(held.refused.map((x) => x.key)).toEqual(['consul-dc1//Web']);
  });

  it('refuses a name taken by an object it does not own', () => {
    const web = rec('consul-dc1', 'web', ['10.0.0.1']);
    const [se] = written(web);
    const squatter: LiveObject = { kind: 'ServiceEntry', metadata: { name: se.metadata.name, namespace: NS }, spec: { hosts: ['web.service.consul'] } };
    const r = plan([read('consul-dc1', [web])], [squatter]);
    expect(r.refused).toMatchObject([{ reason: 'name-collision' }]);
  });

  it('deletes an owned orphan of a complete read, with its WorkloadEntries, and leaves foreign objects alone', () => {
    const gone = rec('eureka-a', 'gone', ['10.0.0.1', '10.0.0.2']);
    const r = plan([read('eureka-a', [])], [...written(gone), foreign('theirs', 'x.eureka')]);
    expect(r.deleted.map((d) => [d.kind, d.key])).toEqual([
      ['ServiceEntry', 'eureka-a//gone'],
      ['WorkloadEntry', 'eureka-a//gone'],
      ['WorkloadEntry', 'eureka-a//gone'],
    ].sort((a, b) => a[0].localeCompare(b[0])));
    expect(r.deleted.find((d) => d.kind === 'ServiceEntry')?.why).toMatch(/after the grace period \(60s\), subject to the deletion budget/);
  });

  it.each([
    ['the read failed', { error: 'connect ECONNREFUSED', snapshotKeys: undefined }],
    ['the listing may be partial', { complete: false }],
  ])('deletes nothing when %s', (_n, over) => {
    const gone = rec('consul-dc1', 'gone', ['10.0.0.1']);
    const r = plan([read('consul-dc1', [], over)], written(gone));
    expect(r.deleted).toEqual([]);
  });

  it('does not delete a listed service whose read failed, and reports the error', () => {
    const web = rec('consul-dc1', 'web', ['10.0.0.1']);
    const r = plan([read('consul-dc1', [], { snapshotKeys: ['consul-dc1//web'], unread: [{ key: 'consul-dc1//web', error: 'timeout' }] })], written(web));
    expect(r.deleted).toEqual([]);
    expect(r.errors).toEqual(['source consul-dc1: consul-dc1//web could not be read: timeout']);
    expect(exitCodeOf(r)).toBe(1);
  });

  it('a source without a collector config is neither compared nor deleted', () => {
    const web = rec('consul-dc1', 'web', ['10.0.0.1']);
    const r = plan([read('eureka-a', [])], written(web));
    expect(r.deleted).toEqual([]);
    expect(r.warnings).toEqual([expect.stringContaining('consul-dc1 is configured in the writer but no collector config reads it')]);
  });

  it('warns when the deletions of a source exceed the deletion budget', () => {
    const live = ['a', 'b', 'c'].flatMap((s) => written(rec('consul-dc1', s, ['10.0.0.1'])));
    const r = plan([read('consul-dc1', [])], live, { gracePeriodSeconds: 0, maxDeletes: 2, maxDeletePercent: 0 });
    expect(r.deleted).toHaveLength(3);
    expect(r.warnings).toEqual([expect.stringMatching(/3 of 3 services would be removed at once, over the deletion budget of 2/)]);
  });

  it('workloadEntry mode: new, changed and stale WorkloadEntries', () => {
    const before = rec('eureka-a', 'orders', ['10.0.0.1', '10.0.0.2']);
    const after = rec('eureka-a', 'orders', ['10.0.0.9', '10.0.0.2'], {
      endpoints: [
        { id: 'orders-0', address: '10.0.0.9', health: 'healthy' },
        { id: 'orders-5', address: '10.0.0.5', health: 'healthy' },
      ],
    });
    const r = plan([read('eureka-a', [after])], written(before));
    expect(r.unchanged.map((u) => u.kind)).toEqual(['ServiceEntry']);
    expect(r.added.map((a) => a.kind)).toEqual(['WorkloadEntry']);
    expect(r.changed).toHaveLength(1);
    expect(r.changed[0].fields).toContainEqual({ path: 'spec.address', old: '10.0.0.1', new: '10.0.0.9' });
    expect(r.deleted.map((d) => d.kind)).toEqual(['WorkloadEntry']);
  });
});
