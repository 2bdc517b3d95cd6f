// Property tests: whatever Consul hands over (garbage addresses and ports, odd tags, huge meta,
// duplicate ids), normalization never throws, emits only what the contract accepts, and accounts
// for every instance it leaves out.
import { serviceRecordSchema } from '@registry-bridge/contract';
import fc from 'fast-check';
import { isIP } from 'node:net';
import { ConsulHealthEntry, normalizeService, NormalizeContext } from './consul-normalize';
import { consulNormalizeSchema } from './consul-source.schema';

const ctx = (service: string): NormalizeContext => ({
  source: { name: 'consul-dc1', kind: 'consul' },
  service,
  revision: 7,
  observedAt: '2026-11-24T10:00:00.000Z',
  options: consulNormalizeSchema.parse({}),
  instanceTagsPass: () => true,
  includeConnect: false,
});

const arbAddress = fc.oneof(fc.ipV4(), fc.ipV6(), fc.domain(), fc.string({ maxLength: 40 }), fc.constantFrom('', ' ', '10.0.0.300', 'http://x/', '-bad-.host', '::ffff:1.2.3.4'));
const arbPort = fc.oneof(fc.integer({ min: -5, max: 70000 }), fc.constantFrom(0, 65535, 65536, 70000, Number.NaN, 1.5));
const arbText = fc.string({ maxLength: 80, unit: 'grapheme' });
const arbEntry: fc.Arbitrary<ConsulHealthEntry> = fc.record({
  Node: fc.record({ Node: fc.constantFrom('n1', 'n2', 'n3', ''), Address: arbAddress, Datacenter: fc.constantFrom('dc1', 'DC 1', ''), ModifyIndex: fc.nat() }),
  Service: fc.record({
    ID: fc.oneof(fc.constantFrom('a', 'b', 'dup', ''), arbText),
    Service: fc.constant('web'),
    Tags: fc.option(fc.array(fc.oneof(arbText, fc.constantFrom('Team=Pay', 'team=pay', 'TEAM=ops', 'k|v', '=', 'a=b=c')), { maxLength: 12 }), { nil: null }),
    Address: arbAddress,
    Port: arbPort,
    Meta: fc.option(fc.dictionary(arbText, fc.oneof(arbText, fc.string({ minLength: 1000, maxLength: 5000 })), { maxKeys: 70 }), { nil: null }),
    Weights: fc.option(fc.record({ Passing: fc.integer({ min: -3, max: 300 }), Warning: fc.integer({ min: -3, max: 300 }) }), { nil: null }),
    ModifyIndex: fc.nat(),
  }),
  Checks: fc.array(fc.record({ CheckID: arbText, Status: fc.constantFrom('passing', 'warning', 'critical', 'maintenance', 'bogus'), ModifyIndex: fc.nat() }), { maxLength: 3 }),
});

describe('normalizeService (properties)', () => {
  it('never throws and emits a record the contract accepts, with only IP or hostname addresses and valid ports', () => {
    fc.assert(
      fc.property(fc.array(arbEntry, { maxLength: 12 }), fc.oneof(fc.constant('web'), arbText.filter((s) => s.length > 0)), (entries, service) => {
        const r = normalizeService(entries, ctx(service));
        const parsed = serviceRecordSchema.safeParse(r.record);
        if (!parsed.success) throw new Error(parsed.error.message);
        for (const e of r.record.endpoints) {
          expect(isIP(e.address) > 0 || /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/i.test(e.address)).toBe(true);
          for (const p of Object.values(e.ports ?? {})) expect(Number.isInteger(p) && p >= 1 && p <= 65535).toBe(true);
        }
        for (const p of r.record.ports) expect(p.number >= 1 && p.number <= 65535).toBe(true);
      }),
      { numRuns: 150 },
    );
  });

  it('accounts for every instance: kept, or dropped with a reason', () => {
    const endpointReasons = ['proxy_instance', 'tag_filter', 'missing_id', 'invalid_address', 'invalid_port', 'duplicate_endpoint', 'too_many_endpoints'] as const;
    fc.assert(
      fc.property(fc.array(arbEntry, { maxLength: 12 }), (entries) => {
        const r = normalizeService(entries, ctx('web'));
        const dropped = endpointReasons.reduce((n, k) => n + (r.drops[k] ?? 0), 0);
        expect(r.record.endpoints.length + dropped).toBe(entries.length);
      }),
      { numRuns: 150 },
    );
  });

  it('does not depend on the order Consul lists the instances in', () => {
    fc.assert(
      fc.property(fc.array(arbEntry, { maxLength: 8 }).chain((es) => fc.tuple(fc.constant(es), fc.shuffledSubarray(es, { minLength: es.length, maxLength: es.length }))), ([a, b]) => {
        const canon = (es: ConsulHealthEntry[]) => {
          const r = normalizeService(es, ctx('web')).record;
          return JSON.stringify([[...r.endpoints].sort((x, y) => (x.id < y.id ? -1 : 1)), r.ports]);
        };
        // ties between duplicate ids keep the first seen: only compare inputs with unique ids
        fc.pre(new Set(a.map((e) => `${e.Node?.Node}/${e.Service?.ID}`)).size === a.length);
        expect(canon(b)).toBe(canon(a));
      }),
      { numRuns: 100 },
    );
  });
});
