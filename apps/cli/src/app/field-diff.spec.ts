import { fieldDiff, formatValue } from './field-diff';

describe('fieldDiff', () => {
  it.each([
    ['equal objects, other key order', { a: 1, b: { c: [1, 2] } }, { b: { c: [1, 2] }, a: 1 }, []],
    ['changed scalar', { a: 1 }, { a: 2 }, [{ path: 'a', old: 1, new: 2 }]],
    ['added key', { a: 1 }, { a: 1, b: 'x' }, [{ path: 'b', old: undefined, new: 'x' }]],
    ['removed key', { a: 1, b: 'x' }, { a: 1 }, [{ path: 'b', old: 'x', new: undefined }]],
    [
      'array element field',
      { spec: { endpoints: [{ address: '10.0.0.1' }, { address: '10.0.0.2' }] } },
      { spec: { endpoints: [{ address: '10.0.0.1' }, { address: '10.0.0.3' }] } },
      [{ path: 'spec.endpoints[1].address', old: '10.0.0.2', new: '10.0.0.3' }],
    ],
    ['array grows', { l: [1] }, { l: [1, 2] }, [{ path: 'l[1]', old: undefined, new: 2 }]],
    ['array shrinks', { l: [1, { a: 1 }] }, { l: [1] }, [{ path: 'l[1]', old: { a: 1 }, new: undefined }]],
    ['type change is one leaf', { a: { b: 1 } }, { a: [1] }, [{ path: 'a', old: { b: 1 }, new: [1] }]],
    [
      'keys with dots and slashes are quoted',
      { labels: { 'registry-bridge.io/source': 'a' } },
      { labels: { 'registry-bridge.io/source': 'b' } },
      [{ path: 'labels["registry-bridge.io/source"]', old: 'a', new: 'b' }],
    ],
    ['root scalars', 1, 2, [{ path: '(root)', old: 1, new: 2 }]],
    ['undefined and null are both unset', { a: undefined }, { a: null }, []],
  ])('%s', (_name, oldValue, newValue, expected) => {
    expect(fieldDiff(oldValue, newValue)).toEqual(expected);
  });

  it.each([
    [undefined, '(unset)'],
    ['10.0.0.1', '10.0.0.1'],
    [8080, '8080'],
    [{ b: 1, a: 2 }, '{"a":2,"b":1}'],
    [['*'], '["*"]'],
  ])('formats %p as %s', (v, expected) => {
    expect(formatValue(v)).toBe(expected);
  });
});
