import fc from 'fast-check';
import { nextRevision } from './eureka-revision.util';

describe('nextRevision', () => {
  it.each<[number, number | undefined, number, number]>([
    [100, undefined, 50, 100],
    [100, undefined, 500, 500],
    [700, 600, 650, 700],
    [500, 600, 550, 601],
    [500, 600, 900, 900],
  ])('registry %s, last %s, now %s -> %s', (reg, last, now, expected) => {
    expect(nextRevision(reg, last, now)).toBe(expected);
  });

  it('never goes back: above the last one sent, the registry counter when it moves forward, else not below the clock', () => {
    const n = fc.integer({ min: 0, max: 2 ** 45 });
    fc.assert(
      fc.property(n, fc.option(n, { nil: undefined }), n, (reg, last, now) => {
        const next = nextRevision(reg, last, now);
        if (last !== undefined) expect(next).toBeGreaterThan(last);
        if (last === undefined || reg > last) expect(next).toBeGreaterThanOrEqual(reg);
        expect(next === reg || next >= now).toBe(true);
      }),
      { numRuns: 300 },
    );
  });
});
