import fc from 'fast-check';
import { OBJECT_BYTE_BUDGET, withinByteBudget } from './object-budget.util';
import type { Drop } from './translation.types';

const endpoint = (i: number, bytes: number) => ({ address: `10.0.${(i >> 8) & 255}.${i & 255}`, labels: { pad: 'x'.repeat(bytes) } });
const skeleton = { apiVersion: 'networking.istio.io/v1', kind: 'ServiceEntry', metadata: { name: 'web' }, spec: { hosts: ['web.service.consul'] } };

describe('withinByteBudget', () => {
  it('keeps every endpoint of an object under the budget, dropping nothing', () => {
    const drops: Drop[] = [];
    const endpoints = Array.from({ length: 100 }, (_, i) => endpoint(i, 100));
    expect(withinByteBudget(endpoints, skeleton, drops)).toEqual(endpoints);
    expect(drops).toEqual([]);
  });

  it('cuts the endpoints that do not fit, in order, with one drop counting them', () => {
    const drops: Drop[] = [];
    const endpoints = Array.from({ length: 300 }, (_, i) => endpoint(i, 10_000));
    const kept = withinByteBudget(endpoints, skeleton, drops);
    expect(kept).toEqual(endpoints.slice(0, kept.length));
    expect(kept.length).toBeGreaterThan(0);
    expect(drops).toEqual([{ reason: 'endpoint-over-size', count: 300 - kept.length, detail: expect.stringMatching(/byte budget.*workloadEntry/) }]);
  });

  it('never lets the object with its endpoints pass the budget', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 200_000 }), { maxLength: 40 }), (sizes) => {
        const drops: Drop[] = [];
        const endpoints = sizes.map((bytes, i) => endpoint(i, bytes));
        const kept = withinByteBudget(endpoints, skeleton, drops);
        expect(Buffer.byteLength(JSON.stringify({ ...skeleton, spec: { ...skeleton.spec, endpoints: kept } }))).toBeLessThanOrEqual(OBJECT_BYTE_BUDGET);
        expect(kept.length + (drops[0]?.count ?? 0)).toBe(endpoints.length);
      }),
      { numRuns: 100 },
    );
  });
});
