import { parseServiceKey, serviceKey } from './service-key';

describe('serviceKey', () => {
  it.each([
    [{ source: 'consul-dc1', service: 'web' }, 'consul-dc1//web'],
    [{ source: 'cm', scope: 'prod.local', service: 'api' }, 'cm/prod.local/api'],
    [{ source: 'cm', scope: 'a/b', service: 'c' }, 'cm/a%2Fb/c'],
    [{ source: 'cm', scope: 'a', service: 'b/c' }, 'cm/a/b%2Fc'],
  ])('%j -> %s and back', (parts, key) => {
    expect(serviceKey(parts)).toBe(key);
    expect(parseServiceKey(key)).toEqual(parts);
  });

  it('never maps two different triples to one key', () => {
    expect(serviceKey({ source: 's', scope: 'a/b', service: 'c' })).not.toBe(serviceKey({ source: 's', scope: 'a', service: 'b/c' }));
  });

  it('rejects malformed keys', () => {
    expect(() => parseServiceKey('only-one-part')).toThrow(/malformed service key/);
    expect(() => parseServiceKey('s//')).toThrow(/malformed/);
  });
});
