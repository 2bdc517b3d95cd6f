import { CONTRACT_VERSION, messageSchema, ServiceRecordInput } from './record.schema';
import { parseMessage } from './parse-message';

const record = (over: Partial<ServiceRecordInput> = {}): ServiceRecordInput => ({
  source: { name: 'consul-dc1', kind: 'consul' },
  service: 'web',
  ports: [{ name: 'http', number: 8080, protocol: 'HTTP' }],
  endpoints: [{ id: 'web-1', address: '10.0.0.1', health: 'healthy' }],
  revision: 42,
  observedAt: '2026-11-24T10:00:00.000Z',
  ...over,
});
const upsert = (over: Partial<ServiceRecordInput> = {}) => ({ v: CONTRACT_VERSION, type: 'upsert', record: record(over) });

describe('message schema', () => {
  it('accepts a minimal upsert and fills defaults', () => {
    const r = parseMessage(upsert());
    expect(r.ok).toBe(true);
    if (!r.ok || r.message.type !== 'upsert') throw new Error('expected upsert');
    expect(r.message.record.metadata).toEqual({});
    expect(r.message.record.endpoints[0].labels).toEqual({});
    expect(r.message.record.endpoints[0].ports).toEqual({});
  });

  it.each([
    ['remove', { source: { name: 'eureka-a', kind: 'eureka' }, service: 'ORDERS', revision: 3, observedAt: '2026-11-24T10:00:00Z' }],
    ['snapshot', { source: { name: 'cm', kind: 'cloudmap' }, epoch: 1, complete: true, services: [{ service: 'a', scope: 'ns' }], observedAt: '2026-11-24T10:00:00Z' }],
    ['sourceStatus', { source: { name: 'cm', kind: 'cloudmap' }, reachable: false, error: 'timeout', observedAt: '2026-11-24T10:00:00+01:00' }],
  ])('accepts a %s', (type, body) => {
    expect(parseMessage({ v: 1, type, ...body }).ok).toBe(true);
  });

  it.each<[string, unknown, RegExp]>([
    ['null', null, /not an object/],
    ['an array', [], /not an object/],
    ['an unknown version', { ...upsert(), v: 2 }, /unsupported contract version 2/],
    ['a missing version', { type: 'upsert' }, /unsupported contract version null/],
    ['an unknown type', { v: 1, type: 'explode' }, /invalid explode/],
    ['an upper-case source name', upsert({ source: { name: 'Consul', kind: 'consul' } }), /record\.source\.name/],
    ['an unknown registry kind', upsert({ source: { name: 'x', kind: 'zookeeper' as never } }), /record\.source\.kind/],
    ['port 0', upsert({ ports: [{ name: 'http', number: 0 }] }), /record\.ports\.0\.number/],
    ['port 70000', upsert({ ports: [{ name: 'http', number: 70000 }] }), /record\.ports\.0\.number/],
    ['a fractional port', upsert({ ports: [{ name: 'http', number: 80.5 }] }), /record\.ports\.0\.number/],
    ['a bad health', upsert({ endpoints: [{ id: 'a', address: '1.2.3.4', health: 'passing' as never }] }), /endpoints\.0\.health/],
    ['a negative revision', upsert({ revision: -1 }), /record\.revision/],
    ['a non-date observedAt', upsert({ observedAt: 'yesterday' }), /record\.observedAt/],
    ['an empty service name', upsert({ service: '' }), /record\.service/],
    ['a service name of 513 chars', upsert({ service: 'a'.repeat(513) }), /record\.service/],
    ['a control character in a service name', upsert({ service: 'a\nb' }), /control characters/],
    ['1025 ports', upsert({ ports: Array.from({ length: 1025 }, (_, i) => ({ name: `p${i}`, number: i + 1 })) }), /record\.ports/],
    ['a huge metadata value', upsert({ metadata: { k: 'x'.repeat(5000) } }), /record\.metadata\.k/],
    ['too many metadata keys', upsert({ metadata: Object.fromEntries(Array.from({ length: 600 }, (_, i) => [`k${i}`, 'v'])) }), /at most 512 keys/],
    ['a snapshot without complete', { v: 1, type: 'snapshot', source: { name: 'a', kind: 'consul' }, epoch: 1, services: [], observedAt: '2026-11-24T10:00:00Z' }, /complete/],
  ])('rejects %s with a reason naming the culprit', (_name, data, reason) => {
    const r = parseMessage(data);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.reason).toMatch(reason);
  });

  it('keeps IPv6 and host name addresses as given (the writer classifies them)', () => {
    const r = messageSchema.parse(upsert({ endpoints: [{ id: 'a', address: '2001:db8::1', health: 'healthy' }, { id: 'b', address: 'api.example.com', health: 'unknown' }] }));
    expect(r.type === 'upsert' && r.record.endpoints.map((e) => e.address)).toEqual(['2001:db8::1', 'api.example.com']);
  });
});
