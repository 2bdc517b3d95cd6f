import { cloudMapSourceSchema } from './cloudmap-config.schema';
import { NameFilter } from './name-filter.util';

const filter = (namespaces: object, services: object = {}) =>
  new NameFilter(cloudMapSourceSchema.parse({ name: 'cm', region: 'eu-west-1', namespaces, services }));

describe('NameFilter', () => {
  const http = { id: 'ns-1', name: 'prod.local', type: 'HTTP' };
  const priv = { id: 'ns-2', name: 'corp.internal', type: 'DNS_PRIVATE' };
  const pub = { id: 'ns-3', name: 'example.com', type: 'DNS_PUBLIC' };

  it.each<[string, object, boolean[]]>([
    ['no selector: every namespace', {}, [true, true, true]],
    ['by name', { names: ['corp.internal'] }, [false, true, false]],
    ['by id', { ids: ['ns-3'] }, [false, false, true]],
    ['by pattern', { patterns: ['*.local'] }, [true, false, false]],
    ['selectors are a union', { names: ['example.com'], ids: ['ns-1'] }, [true, false, true]],
    ['by type', { types: ['DNS_PRIVATE', 'DNS_PUBLIC'] }, [false, true, true]],
    ['type and selector both apply', { types: ['HTTP'], names: ['corp.internal'] }, [false, false, false]],
  ])('%s', (_name, namespaces, expected) => {
    const f = filter(namespaces);
    expect([http, priv, pub].map((ns) => f.namespace(ns))).toEqual(expected);
  });

  it.each<[object, string, boolean]>([
    [{}, 'anything', true],
    [{ allow: ['api-*'] }, 'api-orders', true],
    [{ allow: ['api-*'] }, 'web', false],
    [{ deny: ['*-canary'] }, 'api-canary', false],
    [{ allow: ['api-*'], deny: ['api-internal'] }, 'api-internal', false],
  ])('services %j: %s -> %s', (services, name, expected) => {
    expect(filter({}, services).service(name)).toBe(expected);
  });
});
