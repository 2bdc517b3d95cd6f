import fc from 'fast-check';
import { ANNOTATIONS } from './ownership';
import { canonicalJson, specHash, withHash } from './spec-hash.util';

const obj = (spec: unknown, annotations: Record<string, string> = {}) => ({ metadata: { labels: { a: '1' }, annotations }, spec });

describe('canonicalJson', () => {
  it.each<[string, unknown, string]>([
    ['sorts keys', { b: 1, a: 2 }, '{"a":2,"b":1}'],
    ['sorts nested keys', { x: { d: 1, c: [{ f: 1, e: 2 }] } }, '{"x":{"c":[{"e":2,"f":1}],"d":1}}'],
    ['keeps array order', [3, 1, 2], '[3,1,2]'],
    ['leaves out undefined fields', { a: undefined, b: null }, '{"b":null}'],
    ['scalars as JSON', 'x"y', '"x\\"y"'],
  ])('%s', (_n, value, expected) => {
    expect(canonicalJson(value)).toBe(expected);
  });

  it('is JSON of the same value, whatever the key order', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue()), (value) => {
        const reversed = Object.fromEntries(Object.entries(value).reverse());
        expect(canonicalJson(reversed)).toBe(canonicalJson(value));
        expect(JSON.parse(canonicalJson(value))).toEqual(JSON.parse(JSON.stringify(value)));
      }),
      { numRuns: 200 },
    );
  });
});

describe('specHash', () => {
  it('ignores the spec-hash annotation itself and key order, and changes with labels, annotations and spec', () => {
    const base = specHash(obj({ hosts: ['a'], ports: [] }));
    expect(specHash(obj({ ports: [], hosts: ['a'] }, { [ANNOTATIONS.specHash]: 'old' }))).toBe(base);
    expect(specHash(obj({ hosts: ['b'], ports: [] }))).not.toBe(base);
    expect(specHash(obj({ hosts: ['a'], ports: [] }, { other: 'x' }))).not.toBe(base);
    expect(specHash({ ...obj({ hosts: ['a'], ports: [] }), metadata: { labels: { a: '2' }, annotations: {} } })).not.toBe(base);
    expect(base).toMatch(/^[0-9a-f]{16}$/);
  });

  it('withHash writes the hash that specHash computes again', () => {
    const o = withHash(obj({ hosts: ['a'] }, { k: 'v' }));
    expect(o.metadata.annotations[ANNOTATIONS.specHash]).toBe(specHash(o));
    expect(o.metadata.annotations['k']).toBe('v');
  });
});
