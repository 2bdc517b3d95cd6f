import fc from 'fast-check';
import { centralProtocolOf, proxyDefaultsProtocol, serviceDefaultsProtocols } from './consul-config-entries';

describe('central protocol from Consul config entries', () => {
  it.each<[string, unknown, Array<[string, string]>]>([
    ['entries with and without Protocol', [{ Kind: 'service-defaults', Name: 'web', Protocol: 'http' }, { Kind: 'service-defaults', Name: 'db' }], [['web', 'http']]],
    ['a blank protocol or name', [{ Name: 'a', Protocol: '  ' }, { Name: '', Protocol: 'grpc' }], []],
    ['not a list', { Name: 'web', Protocol: 'http' }, []],
    ['null and odd items', [null, 7, ['x'], { Name: 'api', Protocol: ' grpc ' }], [['api', 'grpc']]],
  ])('service-defaults: %s', (_n, body, expected) => {
    expect([...serviceDefaultsProtocols(body)]).toEqual(expected);
  });

  it.each<[string, unknown, string | undefined]>([
    ['the global entry', [{ Kind: 'proxy-defaults', Name: 'global', Config: { protocol: 'http' } }], 'http'],
    ['global without protocol', [{ Name: 'global', Config: { local_connect_timeout_ms: 1000 } }], undefined],
    ['no global entry', [{ Name: 'other', Config: { protocol: 'grpc' } }], undefined],
    ['Config not an object', [{ Name: 'global', Config: 'http' }], undefined],
    ['nothing', [], undefined],
  ])('proxy-defaults: %s', (_n, body, expected) => {
    expect(proxyDefaultsProtocol(body)).toBe(expected);
  });

  it('service-defaults win over the global proxy-defaults', () => {
    const c = { byService: new Map([['web', 'grpc']]), global: 'http' };
    expect(centralProtocolOf(c, 'web')).toBe('grpc');
    expect(centralProtocolOf(c, 'db')).toBe('http');
    expect(centralProtocolOf({ byService: new Map() }, 'db')).toBeUndefined();
  });

  it('never throws, and only yields non-blank strings, whatever Consul answers', () => {
    fc.assert(
      fc.property(fc.anything(), (body) => {
        for (const [k, v] of serviceDefaultsProtocols(body)) expect([typeof k, typeof v, k.trim() === k && k !== '', v.trim() === v && v !== '']).toEqual(['string', 'string', true, true]);
        const g = proxyDefaultsProtocol(body);
        expect(g === undefined || (typeof g === 'string' && g.trim() !== '')).toBe(true);
      }),
    );
  });
});
