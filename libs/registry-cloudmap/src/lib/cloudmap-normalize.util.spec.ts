import { serviceRecordSchema } from '@registry-bridge/contract';
import {
  buildServiceRecord,
  CloudMapServiceRef,
  DropReason,
  mapHealth,
  mapLocality,
  normalizeInstance,
  pickAddress,
  parsePort,
} from './cloudmap-normalize.util';

const ctx = { source: 'cm-prod', region: 'eu-west-1', protocolAttribute: 'protocol', observedAt: '2026-11-24T10:00:00.000Z' };
const svc: CloudMapServiceRef = { id: 'srv-1', name: 'orders', namespaceId: 'ns-1', namespaceName: 'prod.local', namespaceType: 'HTTP', healthCheck: 'custom' };

describe('pickAddress', () => {
  it.each<[Record<string, string>, string | undefined, DropReason[]]>([
    [{ AWS_INSTANCE_IPV4: '10.0.0.1' }, '10.0.0.1', []],
    [{ AWS_INSTANCE_IPV4: '10.0.0.1', AWS_INSTANCE_IPV6: '2001:db8::1' }, '10.0.0.1', []],
    [{ AWS_INSTANCE_IPV6: '2001:DB8::1' }, '2001:db8::1', []],
    [{ AWS_INSTANCE_CNAME: 'Api.Example.com.' }, 'api.example.com', []],
    [{ AWS_ALIAS_DNS_NAME: 'lb-1.elb.amazonaws.com' }, 'lb-1.elb.amazonaws.com', []],
    [{ AWS_INSTANCE_IPV4: '10.0.0.300', AWS_INSTANCE_IPV6: '2001:db8::2' }, '2001:db8::2', ['bad-address']],
    [{ AWS_INSTANCE_IPV4: 'not an ip' }, undefined, ['bad-address']],
    [{ AWS_INSTANCE_IPV6: 'fe80::1%eth0' }, undefined, ['bad-address']],
    [{ AWS_INSTANCE_CNAME: '-bad-.example.com' }, undefined, ['bad-address']],
    [{ AWS_INSTANCE_CNAME: `${'a'.repeat(64)}.com` }, undefined, ['bad-address']],
    [{ AWS_INSTANCE_IPV4: '  ' }, undefined, []],
    [{}, undefined, []],
  ])('%j -> %s', (attrs, expected, expectedDrops) => {
    const drops: DropReason[] = [];
    expect(pickAddress(attrs, drops)).toBe(expected);
    expect(drops).toEqual(expectedDrops);
  });
});

describe('parsePort', () => {
  it.each<[string | undefined, number | undefined, boolean]>([
    ['8080', 8080, false],
    [' 443 ', 443, false],
    ['1', 1, false],
    ['65535', 65535, false],
    ['0', undefined, true],
    ['65536', undefined, true],
    ['80.5', undefined, true],
    ['-1', undefined, true],
    ['http', undefined, true],
    ['', undefined, false],
    [undefined, undefined, false],
  ])('%s -> %s', (raw, expected, dropped) => {
    const drops: DropReason[] = [];
    expect(parsePort(raw, drops)).toBe(expected);
    expect(drops).toEqual(dropped ? ['bad-port'] : []);
  });
});

describe('mapHealth', () => {
  it.each<[string | undefined, string | undefined, CloudMapServiceRef['healthCheck'], string, DropReason[]]>([
    ['HEALTHY', undefined, 'custom', 'healthy', []],
    ['UNHEALTHY', 'HEALTHY', 'custom', 'unhealthy', []],
    ['HEALTHY', 'UNHEALTHY', 'custom', 'healthy', []],
    ['UNKNOWN', 'UNHEALTHY', 'custom', 'unhealthy', []],
    ['UNKNOWN', 'HEALTHY', 'route53', 'healthy', []],
    [undefined, undefined, 'custom', 'unknown', []],
    ['UNKNOWN', 'MAYBE', 'custom', 'unknown', ['bad-health-attribute']],
    ['UNKNOWN', undefined, 'none', 'healthy', []],
    [undefined, 'UNHEALTHY', 'none', 'healthy', []],
  ])('reported %s, init %s, check %s -> %s', (reported, init, check, expected, expectedDrops) => {
    const drops: DropReason[] = [];
    expect(mapHealth(reported, init, check, drops)).toBe(expected);
    expect(drops).toEqual(expectedDrops);
  });
});

describe('mapLocality', () => {
  it.each<[Record<string, string>, string | undefined, DropReason[]]>([
    [{ REGION: 'us-east-1', AVAILABILITY_ZONE: 'us-east-1a' }, 'us-east-1/us-east-1a', []],
    [{ AVAILABILITY_ZONE: 'us-east-1b' }, 'us-east-1/us-east-1b', []],
    [{ AVAILABILITY_ZONE: 'use1-az1' }, 'eu-west-1/use1-az1', []],
    [{ REGION: 'US-EAST-2' }, 'us-east-2', []],
    [{}, 'eu-west-1', []],
    [{ AVAILABILITY_ZONE: 'a/b' }, 'eu-west-1', ['bad-locality']],
    [{ REGION: 'x y', AVAILABILITY_ZONE: 'eu-west-1c' }, 'eu-west-1/eu-west-1c', ['bad-locality']],
  ])('%j -> %s', (attrs, expected, expectedDrops) => {
    const drops: DropReason[] = [];
    expect(mapLocality(attrs, 'eu-west-1', drops)).toBe(expected);
    expect(drops).toEqual(expectedDrops);
  });
});

describe('normalizeInstance', () => {
  it('maps address, port, protocol, health, locality and the other attributes to labels', () => {
    const n = normalizeInstance(
      {
        id: 'i-1',
        healthStatus: 'HEALTHY',
        attributes: {
          AWS_INSTANCE_IPV4: '10.0.0.1',
          AWS_INSTANCE_PORT: '8080',
          AWS_INIT_HEALTH_STATUS: 'UNHEALTHY',
          AVAILABILITY_ZONE: 'eu-west-1a',
          protocol: 'grpc',
          version: 'v2',
          ECS_CLUSTER_NAME: 'main',
        },
      },
      svc,
      ctx,
    );
    expect(n).toEqual({
      endpoint: {
        id: 'i-1',
        address: '10.0.0.1',
        ports: { grpc: 8080 },
        labels: { ECS_CLUSTER_NAME: 'main', version: 'v2' },
        health: 'healthy',
        locality: 'eu-west-1/eu-west-1a',
      },
      protocol: 'GRPC',
      drops: [],
    });
  });

  it.each<[string, Record<string, string>, string, DropReason[]]>([
    ['no address at all', { AWS_INSTANCE_PORT: '80' }, 'no-endpoint', ['no-address']],
    ['a bad address only', { AWS_INSTANCE_IPV4: '999.1.1.1' }, 'no-endpoint', ['bad-address']],
    ['a bad port keeps the endpoint', { AWS_INSTANCE_IPV4: '10.0.0.1', AWS_INSTANCE_PORT: '99999' }, 'endpoint', ['bad-port']],
    ['an odd protocol keeps the port under the default name', { AWS_INSTANCE_IPV4: '10.0.0.1', AWS_INSTANCE_PORT: '80', protocol: 'carrier-pigeon' }, 'endpoint', ['bad-protocol']],
    ['a huge attribute value is dropped', { AWS_INSTANCE_IPV4: '10.0.0.1', big: 'x'.repeat(2000) }, 'endpoint', ['label-too-long']],
    ['an empty attribute key is dropped (found by the property test)', { AWS_INSTANCE_IPV4: '10.0.0.1', '': 'x' }, 'endpoint', ['bad-label-key']],
  ])('%s', (_name, attributes, outcome, drops) => {
    const n = normalizeInstance({ id: 'i-1', attributes, healthStatus: 'HEALTHY' }, svc, ctx);
    expect(n.endpoint ? 'endpoint' : 'no-endpoint').toBe(outcome);
    expect(n.drops).toEqual(drops);
  });

  it('drops an instance with a control character in its id', () => {
    expect(normalizeInstance({ id: 'a\nb', attributes: { AWS_INSTANCE_IPV4: '10.0.0.1' } }, svc, ctx)).toEqual({ drops: ['bad-instance-id'] });
  });
});

describe('buildServiceRecord', () => {
  const inst = (id: string, attributes: Record<string, string>, healthStatus = 'HEALTHY') => ({ id, attributes, healthStatus });

  it('builds a valid record: scope = namespace, per-endpoint ports, the most common port for the service', () => {
    const { record, drops } = buildServiceRecord(
      svc,
      [
        inst('c', { AWS_INSTANCE_IPV4: '10.0.0.3', AWS_INSTANCE_PORT: '9090' }),
        inst('a', { AWS_INSTANCE_IPV4: '10.0.0.1', AWS_INSTANCE_PORT: '8080' }, 'UNHEALTHY'),
        inst('b', { AWS_INSTANCE_CNAME: 'b.example.com', AWS_INSTANCE_PORT: '8080' }),
        inst('d', { AWS_INSTANCE_PORT: '8080' }),
        inst('a', { AWS_INSTANCE_IPV4: '10.0.0.9' }),
      ],
      17,
      ctx,
    );
    expect(drops).toEqual({ 'no-address': 1, 'duplicate-instance': 1 });
    expect(record.scope).toBe('prod.local');
    expect(record.service).toBe('orders');
    expect(record.revision).toBe(17);
    expect(record.lineage).toBe('srv-1');
    expect(record.ports).toEqual([{ name: 'port', number: 8080 }]);
    expect(record.endpoints.map((e) => [e.id, e.address, e.ports, e.health])).toEqual([
      ['a', '10.0.0.1', { port: 8080 }, 'unhealthy'],
      ['b', 'b.example.com', { port: 8080 }, 'healthy'],
      ['c', '10.0.0.3', { port: 9090 }, 'healthy'],
    ]);
    expect(record.metadata).toEqual({ 'cloudmap.namespace-id': 'ns-1', 'cloudmap.service-id': 'srv-1', 'cloudmap.namespace-type': 'HTTP' });
    expect(serviceRecordSchema.safeParse(record).success).toBe(true);
  });

  it('keeps the protocol of a named port', () => {
    const { record } = buildServiceRecord(svc, [inst('a', { AWS_INSTANCE_IPV4: '10.0.0.1', AWS_INSTANCE_PORT: '50051', protocol: 'GRPC' })], 1, ctx);
    expect(record.ports).toEqual([{ name: 'grpc', number: 50051, protocol: 'GRPC' }]);
  });

  it('is independent of the order instances come in', () => {
    const list = [inst('x', { AWS_INSTANCE_IPV4: '10.0.0.1' }), inst('y', { AWS_INSTANCE_IPV4: '10.0.0.2' })];
    expect(buildServiceRecord(svc, list, 1, ctx).record).toEqual(buildServiceRecord(svc, [...list].reverse(), 1, ctx).record);
  });

  it('an empty service is a valid record with no endpoints', () => {
    const { record } = buildServiceRecord(svc, [], 0, ctx);
    expect(record.endpoints).toEqual([]);
    expect(serviceRecordSchema.safeParse(record).success).toBe(true);
  });
});
