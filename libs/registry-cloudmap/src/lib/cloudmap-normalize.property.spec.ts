// Property tests: whatever Cloud Map stores (it takes any attribute strings), the record built
// from it never throws, is accepted by the contract, keeps only IP/hostname addresses and valid
// ports, and accounts for every instance it leaves out.
import { serviceRecordSchema } from '@registry-bridge/contract';
import fc from 'fast-check';
import { isIP } from 'node:net';
import { buildServiceRecord, CloudMapServiceRef, RawInstance } from './cloudmap-normalize.util';

const service: CloudMapServiceRef = { id: 'srv-1', name: 'orders', namespaceId: 'ns-1', namespaceName: 'prod.local', healthCheck: 'custom' };
const ctx = { source: 'cloudmap-prod', region: 'eu-west-1', protocolAttribute: 'protocol', observedAt: '2026-11-24T10:00:00.000Z' };
const arbText = fc.string({ maxLength: 60, unit: 'grapheme' });
const arbInstance: fc.Arbitrary<RawInstance> = fc.record({
  id: fc.oneof(fc.constantFrom('i-1', 'i-2', 'dup', ''), arbText),
  attributes: fc.record(
    {
      AWS_INSTANCE_IPV4: fc.oneof(fc.ipV4(), fc.constantFrom('999.1.1.1', '', 'abc', '10.0.0.1 ')),
      AWS_INSTANCE_IPV6: fc.oneof(fc.ipV6(), fc.constant('::zz')),
      AWS_INSTANCE_CNAME: fc.oneof(fc.domain(), arbText),
      AWS_INSTANCE_PORT: fc.oneof(fc.integer({ min: -1, max: 70000 }).map(String), fc.constantFrom('', '8080.5', 'http', '0')),
      protocol: fc.oneof(fc.constantFrom('http', 'GRPC', 'nope'), arbText),
      AVAILABILITY_ZONE: fc.oneof(fc.constantFrom('eu-west-1a', ''), arbText),
      extra: fc.string({ minLength: 0, maxLength: 3000 }),
    },
    { requiredKeys: [] },
  ).chain((base) => fc.dictionary(arbText, arbText, { maxKeys: 40 }).map((more) => ({ ...more, ...base }))),
  healthStatus: fc.option(fc.constantFrom('HEALTHY', 'UNHEALTHY', 'UNKNOWN', 'weird'), { nil: undefined }),
});

describe('buildServiceRecord (properties)', () => {
  it('never throws and emits a record the contract accepts, with only IP or hostname addresses and valid ports', () => {
    fc.assert(
      fc.property(fc.array(arbInstance, { maxLength: 10 }), fc.nat(), (instances, revision) => {
        const { record } = buildServiceRecord(service, instances, revision, ctx);
        const parsed = serviceRecordSchema.safeParse(record);
        if (!parsed.success) throw new Error(parsed.error.message);
        for (const e of record.endpoints) {
          // DNS names, underscores allowed (Cloud Map and SRV-style names use them on purpose)
          expect(isIP(e.address) > 0 || /^[a-z0-9_]([-a-z0-9_]*[a-z0-9_])?(\.[a-z0-9_]([-a-z0-9_]*[a-z0-9_])?)*\.?$/i.test(e.address)).toBe(true);
          for (const p of Object.values(e.ports ?? {})) expect(Number.isInteger(p) && p >= 1 && p <= 65535).toBe(true);
        }
      }),
      { numRuns: 150 },
    );
  });

  it('accounts for every instance: kept, or left out with at least one counted reason', () => {
    fc.assert(
      fc.property(fc.array(arbInstance, { maxLength: 10 }), (instances) => {
        const { record, drops } = buildServiceRecord(service, instances, 1, ctx);
        const kept = new Set(record.endpoints.map((e) => e.id));
        const left = instances.filter((i) => !kept.has(i.id)).length + instances.filter((i, n) => kept.has(i.id) && instances.findIndex((j) => j.id === i.id) !== n).length;
        const counted = Object.values(drops).reduce((a, b) => a + (b ?? 0), 0);
        expect(counted).toBeGreaterThanOrEqual(left);
        if (left > 0) expect(counted).toBeGreaterThan(0);
      }),
      { numRuns: 150 },
    );
  });

  it('does not depend on the order the API lists the instances in', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(arbInstance, { maxLength: 8, selector: (i) => i.id }).chain((is) => fc.tuple(fc.constant(is), fc.shuffledSubarray(is, { minLength: is.length, maxLength: is.length }))),
        ([a, b]) => {
          expect(JSON.stringify(buildServiceRecord(service, b, 1, ctx).record)).toBe(JSON.stringify(buildServiceRecord(service, a, 1, ctx).record));
        },
      ),
      { numRuns: 100 },
    );
  });
});
