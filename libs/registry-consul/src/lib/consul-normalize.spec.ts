import { serviceRecordSchema } from '@registry-bridge/contract';
import {
  aggregateStatus,
  ConsulHealthEntry,
  maxModifyIndex,
  normalizeService,
  NormalizeContext,
  splitTag,
  toHealth,
  toIstioProtocol,
  validAddress,
} from './consul-normalize';
import { consulNormalizeSchema } from './consul-source.schema';

const entry = (over: { node?: Partial<NonNullable<ConsulHealthEntry['Node']>>; svc?: Partial<NonNullable<ConsulHealthEntry['Service']>>; checks?: ConsulHealthEntry['Checks'] } = {}): ConsulHealthEntry => ({
  Node: { Node: 'n1', Address: '10.0.0.1', Datacenter: 'dc1', ModifyIndex: 5, ...over.node },
  Service: { ID: 'web-1', Service: 'web', Tags: [], Address: '', Port: 8080, Meta: {}, ModifyIndex: 10, ...over.svc },
  Checks: over.checks ?? [{ CheckID: 'serfHealth', Status: 'passing', ModifyIndex: 3 }],
});

const ctx = (over: Partial<NormalizeContext> = {}, opts: object = {}): NormalizeContext => ({
  source: { name: 'consul-dc1', kind: 'consul' },
  service: 'web',
  revision: 10,
  observedAt: '2026-11-24T10:00:00.000Z',
  options: consulNormalizeSchema.parse(opts),
  instanceTagsPass: () => true,
  includeConnect: false,
  ...over,
});

describe('aggregateStatus / toHealth', () => {
  it.each<[ConsulHealthEntry['Checks'], string]>([
    [[], 'passing'],
    [null, 'passing'],
    [[{ Status: 'passing' }, { Status: 'warning' }], 'warning'],
    [[{ Status: 'warning' }, { Status: 'critical' }], 'critical'],
    [[{ Status: 'critical' }, { Status: 'warning' }], 'critical'],
    [[{ Status: 'bogus' }], 'critical'],
    [[{ Status: 'passing' }, { CheckID: '_service_maintenance:web-1', Status: 'critical' }], 'maintenance'],
    [[{ CheckID: '_node_maintenance', Status: 'critical' }], 'maintenance'],
  ])('%j -> %s', (checks, status) => expect(aggregateStatus(checks)).toBe(status));

  it.each`
    status           | warn     | health
    ${'passing'}     | ${false} | ${'healthy'}
    ${'warning'}     | ${false} | ${'unhealthy'}
    ${'warning'}     | ${true}  | ${'healthy'}
    ${'critical'}    | ${true}  | ${'unhealthy'}
    ${'maintenance'} | ${true}  | ${'unhealthy'}
  `('$status (warningIsHealthy $warn) -> $health', ({ status, warn, health }) => expect(toHealth(status, warn)).toBe(health));
});

describe('field helpers', () => {
  it.each<[string | undefined, string | undefined]>([
    ['10.1.2.3', '10.1.2.3'],
    ['[2001:db8::1]', '2001:db8::1'],
    ['2001:db8::1', '2001:db8::1'],
    ['api.example.com.', 'api.example.com'],
    ['300.1.1.1', undefined],
    ['not a host', undefined],
    ['', undefined],
    [undefined, undefined],
    ['-bad.example.com', undefined],
  ])('address %j -> %j', (a, r) => expect(validAddress(a)).toBe(r));

  it.each<[string | undefined, string | undefined]>([
    ['http', 'HTTP'],
    ['GRPC', 'GRPC'],
    ['http2', 'HTTP2'],
    ['tcp', 'TCP'],
    ['carrier-pigeon', undefined],
    [undefined, undefined],
  ])('protocol %j -> %j', (p, r) => expect(toIstioProtocol(p)).toBe(r));

  it.each<[string, [string, string] | undefined]>([
    ['version=v2', ['version', 'v2']],
    ['team|payments', ['team', 'payments']],
    ['a=b=c', ['a', 'b=c']],
    ['primary', undefined],
    ['=x', undefined],
  ])('tag %s -> %j', (t, r) => expect(splitTag(t)).toEqual(r));
});

describe('normalizeService', () => {
  it('builds a valid record: node address fallback, datacenter locality, protocol from meta, labels from tags and meta', () => {
    const r = normalizeService(
      [entry({ svc: { Tags: ['version=v2', 'team|pay', 'primary'], Meta: { protocol: 'http', owner: 'x' }, Weights: { Passing: 3, Warning: 1 } } })],
      ctx(),
    );
    expect(r.drops).toEqual({});
    expect(r.record.ports).toEqual([{ name: 'http', number: 8080, protocol: 'HTTP' }]);
    expect(r.record.endpoints).toEqual([
      {
        id: 'n1/web-1',
        address: '10.0.0.1',
        ports: {},
        labels: { protocol: 'http', owner: 'x', version: 'v2', team: 'pay', 'tag.primary': 'true' },
        health: 'healthy',
        locality: 'dc1',
        weight: 3,
      },
    ]);
    expect(r.record.metadata).toEqual({ 'consul.datacenter': 'dc1' });
    expect(serviceRecordSchema.safeParse(r.record).success).toBe(true);
  });

  it('prefers the service address, and keeps per-endpoint ports when instances differ', () => {
    const r = normalizeService(
      [
        entry({ svc: { ID: 'a', Address: '10.9.9.9', Port: 80 } }),
        entry({ node: { Node: 'n2' }, svc: { ID: 'b', Port: 80 } }),
        entry({ node: { Node: 'n3' }, svc: { ID: 'c', Port: 81 } }),
      ],
      ctx({}, { defaultProtocol: 'HTTP' }),
    );
    expect(r.record.ports).toEqual([{ name: 'http', number: 80, protocol: 'HTTP' }]);
    expect(r.record.endpoints.map((e) => [e.id, e.address, e.ports])).toEqual([
      ['n1/a', '10.9.9.9', {}],
      ['n2/b', '10.0.0.1', {}],
      ['n3/c', '10.0.0.1', { http: 81 }],
    ]);
  });

  it.each<[string, ConsulHealthEntry, string]>([
    ['a bad address', entry({ node: { Address: '999.1.1.1' } }), 'invalid_address'],
    ['port 0', entry({ svc: { Port: 0 } }), 'invalid_port'],
    ['port 70000', entry({ svc: { Port: 70000 } }), 'invalid_port'],
    ['no service id', entry({ svc: { ID: '' } }), 'missing_id'],
    ['a connect proxy', entry({ svc: { Kind: 'connect-proxy' } }), 'proxy_instance'],
  ])('drops the endpoint with %s, keeps the others', (_n, bad, reason) => {
    const r = normalizeService([bad, entry({ node: { Node: 'ok' } })], ctx());
    expect(r.drops).toEqual({ [reason]: 1 });
    expect(r.record.endpoints.map((e) => e.id)).toEqual(['ok/web-1']);
  });

  it('drops single fields: an unknown protocol, a bad weight, an oversized label', () => {
    const r = normalizeService([entry({ svc: { Meta: { protocol: 'pigeon', big: 'x'.repeat(2000) }, Weights: { Passing: -2 } } })], ctx({}, { metaLabelPrefix: 'meta.' }));
    expect(r.drops).toEqual({ invalid_protocol: 1, invalid_weight: 1, invalid_label: 1 });
    expect(r.record.endpoints).toHaveLength(1);
    expect(r.record.endpoints[0].weight).toBeUndefined();
    expect(r.record.endpoints[0].labels).toEqual({ 'meta.protocol': 'pigeon' });
    expect(r.record.ports[0]).toEqual({ name: 'tcp', number: 8080 });
  });

  it('maps health per endpoint and uses the warning weight for a warning instance', () => {
    const r = normalizeService(
      [
        entry({ svc: { ID: 'a', Weights: { Passing: 5, Warning: 2 } }, checks: [{ Status: 'warning' }] }),
        entry({ svc: { ID: 'b' }, checks: [{ Status: 'critical' }] }),
        entry({ svc: { ID: 'c' }, checks: [{ CheckID: '_service_maintenance:c', Status: 'critical' }] }),
      ],
      ctx({}, { warningIsHealthy: true }),
    );
    expect(r.record.endpoints.map((e) => [e.id, e.health, e.weight])).toEqual([
      ['n1/a', 'healthy', 2],
      ['n1/b', 'unhealthy', undefined],
      ['n1/c', 'unhealthy', undefined],
    ]);
  });

  // Issue 16.12: Consul DNS (dns_config.only_passing false) and Connect (service-resolver
  // OnlyPassing false) route to warning instances; so does the default here, at the warning weight.
  it('by default a warning instance is healthy (as Consul DNS and Connect treat it), a critical one is not', () => {
    const r = normalizeService(
      [entry({ svc: { ID: 'a', Weights: { Passing: 5, Warning: 1 } }, checks: [{ Status: 'warning' }] }), entry({ svc: { ID: 'b' }, checks: [{ Status: 'critical' }] })],
      ctx(),
    );
    expect(r.record.endpoints.map((e) => [e.id, e.health, e.weight])).toEqual([
      ['n1/a', 'healthy', 1],
      ['n1/b', 'unhealthy', undefined],
    ]);
    expect(normalizeService([entry({ checks: [{ Status: 'warning' }] })], ctx({}, { warningIsHealthy: false })).record.endpoints[0].health).toBe('unhealthy');
  });

  // Issue 16.12: the protocol Connect users set centrally (service-defaults, else proxy-defaults
  // global) counts when the instance says nothing; the instance's own Meta.protocol wins, as an
  // instance's own proxy config wins over central config in Consul.
  it.each`
    case                                        | meta         | central     | defaultProtocol | protocol     | drops
    ${'meta only'}                              | ${'grpc'}    | ${undefined} | ${undefined}   | ${'GRPC'}    | ${{}}
    ${'central only'}                           | ${undefined} | ${'http'}   | ${undefined}    | ${'HTTP'}    | ${{}}
    ${'meta wins over central'}                 | ${'http2'}   | ${'http'}   | ${undefined}    | ${'HTTP2'}   | ${{}}
    ${'central wins over defaultProtocol'}      | ${undefined} | ${'grpc'}   | ${'TCP'}        | ${'GRPC'}    | ${{}}
    ${'bad meta falls back to central'}         | ${'pigeon'}  | ${'http'}   | ${undefined}    | ${'HTTP'}    | ${{ invalid_protocol: 1 }}
    ${'bad central falls back to the default'}  | ${undefined} | ${'pigeon'} | ${'TCP'}        | ${'TCP'}     | ${{ invalid_protocol: 1 }}
    ${'nothing'}                                | ${undefined} | ${undefined} | ${undefined}   | ${undefined} | ${{}}
  `('protocol: $case -> $protocol', ({ meta, central, defaultProtocol, protocol, drops }) => {
    const r = normalizeService(
      [entry({ svc: { Meta: meta ? { protocol: meta } : {} } })],
      ctx({ centralProtocol: central }, { metaLabelPrefix: null, ...(defaultProtocol && { defaultProtocol }) }),
    );
    expect(r.record.ports[0]).toEqual({ name: (protocol ?? 'tcp').toLowerCase(), number: 8080, ...(protocol && { protocol }) });
    expect(r.drops).toEqual(drops);
  });

  it('applies the per-instance tag filter and the plain-tag allow list', () => {
    const r = normalizeService(
      [entry({ svc: { ID: 'a', Tags: ['mesh', 'noise'] } }), entry({ svc: { ID: 'b', Tags: ['canary'] } })],
      ctx({ instanceTagsPass: (t) => !t.includes('canary') }, { plainTagAllowList: ['mesh'], metaLabelPrefix: null }),
    );
    expect(r.drops).toEqual({ tag_filter: 1 });
    expect(r.record.endpoints[0].labels).toEqual({ 'tag.mesh': 'true' });
  });

  it('puts zone into the locality and carries scope, lineage, network', () => {
    const r = normalizeService([entry({ node: { Meta: { zone: 'z1' } } })], ctx({ scope: 'team-a', lineage: 'L2' }, { zoneMetaKey: 'zone', network: 'net1' }));
    expect(r.record).toMatchObject({ scope: 'team-a', lineage: 'L2', metadata: { 'consul.datacenter': 'dc1' } });
    expect(r.record.endpoints[0]).toMatchObject({ locality: 'dc1/z1', network: 'net1' });
  });

  it('says when a service is only proxies, and yields an empty (not missing) record for no instances', () => {
    expect(normalizeService([entry({ svc: { Kind: 'connect-proxy' } })], ctx()).onlyProxies).toBe(true);
    const empty = normalizeService([], ctx());
    expect(empty.onlyProxies).toBe(false);
    expect(empty.record.endpoints).toEqual([]);
    expect(empty.record.ports).toEqual([]);
  });

  it('is deterministic whatever the entry order', () => {
    const es = [entry({ svc: { ID: 'b' } }), entry({ svc: { ID: 'a' } })];
    expect(normalizeService(es, ctx()).record).toEqual(normalizeService([...es].reverse(), ctx()).record);
  });

  it('maxModifyIndex takes services, nodes and checks', () => {
    expect(maxModifyIndex([entry(), entry({ checks: [{ ModifyIndex: 99 }] })])).toBe(99);
    expect(maxModifyIndex([])).toBe(0);
  });
});
