import { contentHash } from '@registry-bridge/source-kit';
import * as normalizer from './eureka-normalizer';
import { localRegistryOf as registry, testInstance } from './eureka-instances.testing';
import { PreparedAppCache } from './prepared-app.cache';

const source = { name: 'eureka-a', kind: 'eureka' as const };
const options = { ...normalizer.DEFAULT_NORMALIZE_OPTIONS, source };

describe('PreparedAppCache', () => {
  let normalizeApp: jest.SpyInstance;
  beforeEach(() => (normalizeApp = jest.spyOn(normalizer, 'normalizeApp')));
  afterEach(() => normalizeApp.mockRestore());

  it('normalizes an app once, with its service key and the content hash the emitter compares', () => {
    const cache = new PreparedAppCache(registry([testInstance('ORDERS', 'o1')]), source, options);
    const first = cache.get('ORDERS');
    expect(cache.get('ORDERS')).toBe(first);
    expect(normalizeApp).toHaveBeenCalledTimes(1);
    if (!first.included || !first.app) throw new Error('expected a record');
    const { app } = first;
    expect(first.key).toBe('eureka-a//orders');
    expect(first.contentHash).toBe(contentHash({ source, service: app.service, ports: app.ports, endpoints: app.endpoints, metadata: app.metadata }));
  });

  it('normalizes again only the apps invalidated, and every app after clear', () => {
    const cache = new PreparedAppCache(registry([testInstance('ORDERS', 'o1'), testInstance('PAY', 'p1')]), source, options);
    cache.get('ORDERS');
    cache.get('PAY');
    normalizeApp.mockClear();
    cache.invalidate(['PAY']);
    cache.get('ORDERS');
    cache.get('PAY');
    expect(normalizeApp.mock.calls.map((c) => c[0])).toEqual(['PAY']);
    cache.clear();
    cache.get('ORDERS');
    cache.get('PAY');
    expect(normalizeApp.mock.calls.map((c) => c[0])).toEqual(['PAY', 'ORDERS', 'PAY']);
  });

  it.each<[string, { include?: string[]; exclude?: string[] }, string[]]>([
    ['no filter: every app', {}, ['ORDERS', 'PAYMENTS', 'SHIP']],
    ['include globs, case-insensitive', { include: ['pay*', 'ship'] }, ['PAYMENTS', 'SHIP']],
    ['exclude wins over include', { include: ['*'], exclude: ['PAY*'] }, ['ORDERS', 'SHIP']],
  ])('filters apps: %s, without normalizing those left out', (_n, apps, included) => {
    const cache = new PreparedAppCache(registry([testInstance('ORDERS', 'o1'), testInstance('PAYMENTS', 'p1'), testInstance('SHIP', 's1')]), source, options, apps);
    expect(['ORDERS', 'PAYMENTS', 'SHIP'].filter((a) => cache.get(a).included)).toEqual(included);
    expect(normalizeApp.mock.calls.map((c) => c[0])).toEqual(included);
  });

  it('keeps the drops of an app that normalizes to nothing', () => {
    const cache = new PreparedAppCache(registry([testInstance('BAD\u0001APP', 'b1')]), source, options);
    const prepared = cache.get('BAD\u0001APP');
    expect(prepared).toEqual({ included: true, drops: { app_name_invalid: 1 } });
  });
});
