import { ServiceRecordInput } from '@registry-bridge/contract';
import { ChangeTracker, contentHash, recordKey } from './change-tracker';

const record = (over: Partial<ServiceRecordInput> = {}): ServiceRecordInput => ({
  source: { name: 'consul-dc1', kind: 'consul' },
  service: 'web',
  ports: [
    { name: 'http', number: 80, protocol: 'HTTP' },
    { name: 'grpc', number: 9090 },
  ],
  endpoints: [
    { id: 'web-1', address: '10.0.0.1', health: 'healthy', labels: { a: '1', b: '2' }, ports: { http: 8080 } },
    { id: 'web-2', address: '10.0.0.2', health: 'healthy' },
  ],
  metadata: { team: 'x', tier: 'web' },
  revision: 1,
  observedAt: '2026-01-01T00:00:00Z',
  ...over,
});

describe('ChangeTracker', () => {
  it('emits on first sight and not again for the same content', () => {
    const t = new ChangeTracker();
    expect(t.shouldEmit(record())).toBe(true);
    expect(t.shouldEmit(record())).toBe(false);
    expect(t.keys()).toEqual(['consul-dc1//web']);
  });

  it('ignores revision and observedAt', () => {
    const t = new ChangeTracker();
    t.shouldEmit(record());
    expect(t.shouldEmit(record({ revision: 99, observedAt: '2026-02-01T00:00:00Z' }))).toBe(false);
  });

  it('ignores the order of ports, endpoints, labels and metadata', () => {
    const r = record();
    const reordered = record({
      ports: [...r.ports].reverse(),
      endpoints: [{ ...r.endpoints[1] }, { ...r.endpoints[0], labels: { b: '2', a: '1' } }],
      metadata: { tier: 'web', team: 'x' },
    });
    expect(contentHash(reordered)).toBe(contentHash(r));
  });

  it('treats absent maps like empty ones (input before and after contract defaults)', () => {
    const r = record({ metadata: undefined, endpoints: [{ id: 'e', address: '10.0.0.9', health: 'unknown' }] });
    expect(contentHash(r)).toBe(contentHash({ ...r, metadata: {}, endpoints: [{ id: 'e', address: '10.0.0.9', health: 'unknown', labels: {}, ports: {} }] }));
  });

  it.each<[string, Partial<ServiceRecordInput>]>([
    ['a health flip', { endpoints: [{ id: 'web-1', address: '10.0.0.1', health: 'unhealthy', labels: { a: '1', b: '2' }, ports: { http: 8080 } }, { id: 'web-2', address: '10.0.0.2', health: 'healthy' }] }],
    ['a removed endpoint', { endpoints: [{ id: 'web-2', address: '10.0.0.2', health: 'healthy' }] }],
    ['a port protocol', { ports: [{ name: 'http', number: 80, protocol: 'HTTP2' }, { name: 'grpc', number: 9090 }] }],
    ['metadata', { metadata: { team: 'y', tier: 'web' } }],
    ['the lineage', { lineage: 'rebuilt-1' }],
  ])('emits on %s', (_name, over) => {
    const t = new ChangeTracker();
    t.shouldEmit(record());
    expect(t.shouldEmit(record(over))).toBe(true);
  });

  it('keeps keys apart by scope and emits again after forget', () => {
    const t = new ChangeTracker();
    t.shouldEmit(record());
    expect(t.shouldEmit(record({ scope: 'ns1' }))).toBe(true);
    expect(t.forget(recordKey(record()))).toBe(true);
    expect(t.shouldEmit(record())).toBe(true);
    expect(t.keys().sort()).toEqual(['consul-dc1//web', 'consul-dc1/ns1/web']);
  });
});
