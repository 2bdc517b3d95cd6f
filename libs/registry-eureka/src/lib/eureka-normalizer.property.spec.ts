// Property tests: whatever a Eureka server returns (ports as objects, numbers or strings, any
// status, odd metadata, duplicate instance ids), normalizeApp never throws and what it emits is
// accepted by the contract, with IP/hostname addresses and valid ports only.
import { serviceRecordSchema } from '@registry-bridge/contract';
import fc from 'fast-check';
import { isIP } from 'node:net';
import { DEFAULT_NORMALIZE_OPTIONS, normalizeApp, type NormalizeOptions } from './eureka-normalizer';
import type { EurekaInstanceJson } from './eureka-payload';

const options: NormalizeOptions = { ...DEFAULT_NORMALIZE_OPTIONS, source: { name: 'eureka-a', kind: 'eureka' } };
const arbText = fc.string({ maxLength: 60, unit: 'grapheme' });
const arbPort = fc.oneof(
  fc.record({ $: fc.oneof(fc.integer({ min: -1, max: 70000 }), fc.integer().map(String)), '@enabled': fc.constantFrom('true', 'false', 'TRUE', 'yes') }),
  fc.integer({ min: -1, max: 70000 }),
  fc.constantFrom('8080', '0', 'x', ''),
) as fc.Arbitrary<EurekaInstanceJson['port']>;
const arbInstance: fc.Arbitrary<EurekaInstanceJson> = fc.record(
  {
    instanceId: fc.oneof(fc.constantFrom('i-1', 'i-2', 'dup', ''), arbText),
    hostName: fc.oneof(fc.domain(), arbText),
    app: fc.constant('ORDERS'),
    ipAddr: fc.oneof(fc.ipV4(), fc.ipV6(), fc.constantFrom('999.0.0.1', '', 'not-an-ip'), arbText),
    status: fc.constantFrom('UP', 'DOWN', 'STARTING', 'OUT_OF_SERVICE', 'UNKNOWN', 'bogus'),
    port: arbPort,
    securePort: arbPort,
    metadata: fc.dictionary(arbText, fc.oneof(arbText, fc.integer(), fc.constant(null), fc.string({ minLength: 1000, maxLength: 5000 })), { maxKeys: 40 }),
    dataCenterInfo: fc.record({ name: fc.constantFrom('MyOwn', 'Amazon'), metadata: fc.dictionary(fc.constantFrom('availability-zone', 'region'), arbText) }),
    lastUpdatedTimestamp: fc.oneof(fc.nat(), fc.nat().map(String), fc.constant('x')),
    lastDirtyTimestamp: fc.oneof(fc.nat(), fc.nat().map(String), fc.constant('')),
  },
  { requiredKeys: ['app'] },
);

describe('normalizeApp (properties)', () => {
  it('never throws, and what it emits the contract accepts, with only IP or hostname addresses and valid ports', () => {
    fc.assert(
      fc.property(fc.oneof(fc.constant('ORDERS'), arbText), fc.array(arbInstance, { maxLength: 10 }), (name, instances) => {
        const { app } = normalizeApp(name, instances, options);
        if (!app) return; // an unusable app name: dropped whole, counted by the caller
        const parsed = serviceRecordSchema.safeParse({ ...app, source: options.source, revision: 1, observedAt: '2026-11-24T10:00:00.000Z' });
        if (!parsed.success) throw new Error(parsed.error.message);
        for (const e of app.endpoints) {
          expect(isIP(e.address) > 0 || /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\.?$/i.test(e.address)).toBe(true);
          for (const p of Object.values(e.ports ?? {})) expect(Number.isInteger(p) && p >= 1 && p <= 65535).toBe(true);
        }
      }),
      { numRuns: 150 },
    );
  });
});
