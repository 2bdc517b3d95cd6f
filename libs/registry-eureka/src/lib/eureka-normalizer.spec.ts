import { LIMITS, serviceRecordSchema } from '@registry-bridge/contract';
import type { EurekaInstanceJson } from './eureka-payload';
import { addressOf, DEFAULT_NORMALIZE_OPTIONS, healthOf, isValidLabelKey, isValidLabelValue, localityOf, normalizeApp, readPort, type NormalizeOptions } from './eureka-normalizer';

const options: NormalizeOptions = { ...DEFAULT_NORMALIZE_OPTIONS, source: { name: 'eureka-a', kind: 'eureka' } };

const instance = (over: Partial<EurekaInstanceJson> = {}): EurekaInstanceJson => ({
  instanceId: 'orders-1',
  hostName: 'orders-1.internal',
  app: 'ORDERS',
  ipAddr: '10.0.0.1',
  status: 'UP',
  port: { $: 8080, '@enabled': 'true' },
  securePort: { $: 8443, '@enabled': 'false' },
  dataCenterInfo: { name: 'MyOwn' },
  metadata: { version: 'v1' },
  vipAddress: 'orders',
  lastUpdatedTimestamp: '1700000000000',
  lastDirtyTimestamp: '1700000000500',
  ...over,
});

describe('normalizeApp', () => {
  it('maps a plain instance to a valid record body', () => {
    const { app, drops } = normalizeApp('ORDERS', [instance()], options);
    expect(drops).toEqual({});
    expect(app).toEqual({
      service: 'orders',
      ports: [{ name: 'http', number: 8080, protocol: 'HTTP' }],
      endpoints: [{ id: 'orders-1', address: '10.0.0.1', ports: { http: 8080 }, labels: { version: 'v1' }, health: 'healthy' }],
      metadata: { 'eureka.app': 'ORDERS', 'eureka.vipAddress': 'orders' },
      registryRevision: 1700000000500,
    });
    expect(serviceRecordSchema.safeParse({ ...app, source: options.source, revision: 1, observedAt: new Date().toISOString() }).success).toBe(true);
  });

  it('takes the newest of lastDirtyTimestamp/lastUpdatedTimestamp over all instances as registry revision', () => {
    const { app } = normalizeApp('ORDERS', [instance(), instance({ instanceId: 'orders-2', lastUpdatedTimestamp: 1700000009999, lastDirtyTimestamp: '1' })], options);
    expect(app?.registryRevision).toBe(1700000009999);
  });

  it('adds the secure port as HTTPS when enabled and names ports per endpoint', () => {
    const { app } = normalizeApp('ORDERS', [instance({ securePort: { $: 8443, '@enabled': 'true' } }), instance({ instanceId: 'orders-2', port: { $: 9090, '@enabled': true }, securePort: { $: 9443, '@enabled': 'true' } })], options);
    expect(app?.ports).toEqual([
      { name: 'http', number: 8080, protocol: 'HTTP' },
      { name: 'https', number: 8443, protocol: 'HTTPS' },
    ]);
    expect(app?.endpoints.map((e) => e.ports)).toEqual([
      { http: 8080, https: 8443 },
      { http: 9090, https: 9443 },
    ]);
  });

  it('lets metadata set the protocol and the service port', () => {
    const { app, drops } = normalizeApp('GRPC-SVC', [instance({ metadata: { protocol: 'grpc', 'service-port': '50051' } })], options);
    expect(drops).toEqual({});
    expect(app?.ports).toEqual([{ name: 'grpc', number: 50051, protocol: 'GRPC' }]);
    expect(app?.endpoints[0].ports).toEqual({ grpc: 8080 });
  });

  it('uses the majority protocol and the most common port when instances disagree', () => {
    const { app } = normalizeApp(
      'X',
      [instance({ instanceId: 'a', metadata: { protocol: 'http2' } }), instance({ instanceId: 'b', metadata: { protocol: 'http2' }, port: { $: 8081 } }), instance({ instanceId: 'c', port: { $: 8081 } })],
      options,
    );
    expect(app?.ports).toEqual([{ name: 'http2', number: 8081, protocol: 'HTTP2' }]);
  });

  it('keeps two ports distinct when the secure port gets the same protocol as the plain one', () => {
    const { app } = normalizeApp('X', [instance({ metadata: { protocol: 'HTTPS' }, securePort: { $: 8443, '@enabled': 'true' } })], options);
    expect(app?.ports.map((p) => p.name)).toEqual(['https', 'https-secure']);
  });

  it.each<[string, Partial<EurekaInstanceJson>, string, string]>([
    ['UP', { status: 'UP' }, 'healthy', 'only UP is healthy'],
    ['DOWN', { status: 'DOWN' }, 'unhealthy', ''],
    ['OUT_OF_SERVICE', { status: 'OUT_OF_SERVICE' }, 'unhealthy', ''],
    ['STARTING', { status: 'STARTING' }, 'unhealthy', ''],
    ['UNKNOWN', { status: 'UNKNOWN' }, 'unknown', ''],
    ['missing', { status: undefined }, 'unknown', ''],
  ])('status %s -> %s', (_s, over, health) => {
    expect(normalizeApp('A', [instance(over)], options).app?.endpoints[0].health).toBe(health);
  });

  it('honours configured healthy statuses', () => {
    expect(normalizeApp('A', [instance({ status: 'STARTING' })], { ...options, healthyStatuses: ['UP', 'STARTING'] }).app?.endpoints[0].health).toBe('healthy');
  });

  it.each<[string, Partial<EurekaInstanceJson>, string | undefined, Record<string, number>]>([
    ['no id', { instanceId: undefined, hostName: undefined, ipAddr: '10.0.0.9' }, undefined, { instance_no_id: 1 }],
    ['no usable address', { ipAddr: 'not-an-ip', hostName: 'bad host!' }, undefined, { instance_no_address: 1 }],
    ['a host name but no IP', { ipAddr: '' }, 'orders-1.internal', {}],
    ['an IPv6 address', { ipAddr: '2001:db8::7' }, '2001:db8::7', {}],
    ['port 0 and secure port disabled', { port: { $: 0, '@enabled': 'true' } }, undefined, { port_invalid: 1, instance_no_port: 1 }],
    ['port 70000 but a secure port', { port: { $: 70000 }, securePort: { $: 443, '@enabled': 'true' } }, '10.0.0.1', { port_invalid: 1 }],
    ['both ports disabled', { port: { $: 80, '@enabled': 'false' } }, undefined, { instance_no_port: 1 }],
    ['a bad protocol', { metadata: { protocol: 'carrier-pigeon' } }, '10.0.0.1', { protocol_invalid: 1 }],
    ['a bad service port', { metadata: { 'service-port': 'eighty' } }, '10.0.0.1', { service_port_invalid: 1 }],
    ['invalid label keys and values', { metadata: { 'bad key': 'x', ok: 'y', long: 'v'.repeat(64), nested: { a: 1 } as never } }, '10.0.0.1', { label_invalid: 3 }],
    ['an odd availability zone', { dataCenterInfo: { name: 'Amazon', metadata: { 'availability-zone': 'moon' } } }, '10.0.0.1', { locality_invalid: 1 }],
  ])('%s: endpoint address %s, drops %j', (_name, over, address, drops) => {
    const result = normalizeApp('ORDERS', [instance(over)], options);
    expect(result.drops).toEqual(drops);
    expect(result.app?.endpoints[0]?.address).toBe(address);
  });

  it('drops one bad instance, never the app', () => {
    const { app, drops } = normalizeApp('ORDERS', [instance({ ipAddr: '', hostName: '' }), instance({ instanceId: 'orders-2' }), instance({ instanceId: 'orders-2', ipAddr: '10.0.0.3' })], options);
    expect(app?.endpoints.map((e) => e.id)).toEqual(['orders-2']);
    expect(drops).toEqual({ instance_no_address: 1, instance_duplicate_id: 1 });
  });

  it('prefers the host name when configured', () => {
    expect(normalizeApp('A', [instance()], { ...options, preferHostName: true }).app?.endpoints[0].address).toBe('orders-1.internal');
  });

  it('maps the Amazon availability zone to region/zone', () => {
    const { app } = normalizeApp('A', [instance({ dataCenterInfo: { name: 'Amazon', metadata: { 'availability-zone': 'eu-west-1b' } } })], options);
    expect(app?.endpoints[0].locality).toBe('eu-west-1/eu-west-1b');
  });

  it('drops an app whose name cannot be a service name', () => {
    expect(normalizeApp('A\u0001B', [instance()], options)).toEqual({ drops: { app_name_invalid: 1 } });
    expect(normalizeApp('X'.repeat(LIMITS.serviceName + 1), [instance()], options).drops).toEqual({ app_name_invalid: 1 });
  });

  it('keeps an app whose instances are all unusable as a record with no endpoints (the writer keeps its ServiceEntry)', () => {
    const { app } = normalizeApp('A', [instance({ port: { $: 8080, '@enabled': 'false' } })], options);
    expect(app?.endpoints).toEqual([]);
    expect(app?.ports).toEqual([]);
  });

  it('sorts endpoints by id so the same registry state always gives the same record', () => {
    const a = normalizeApp('A', [instance({ instanceId: 'b' }), instance({ instanceId: 'a' })], options).app;
    const b = normalizeApp('A', [instance({ instanceId: 'a' }), instance({ instanceId: 'b' })], options).app;
    expect(a).toEqual(b);
  });
});

describe('field helpers', () => {
  it.each<[unknown, number | undefined, boolean]>([
    [{ $: 80, '@enabled': 'true' }, 80, false],
    [{ $: '80', '@enabled': true }, 80, false],
    [{ $: 80, '@enabled': 'false' }, undefined, false],
    [{ $: 80 }, 80, false],
    [8080, 8080, false],
    [{ $: -1 }, undefined, true],
    [{ $: 1.5 }, undefined, true],
    [undefined, undefined, false],
  ])('readPort(%j) -> %s', (raw, port, invalid) => {
    expect(readPort(raw as never)).toEqual({ port, invalid });
  });

  it.each([
    ['app', true],
    ['example.com/app', true],
    ['Example.com/app', false],
    ['-x', false],
    ['a'.repeat(64), false],
    ['', false],
  ])('label key %s valid: %s', (k, ok) => expect(isValidLabelKey(k)).toBe(ok));

  it.each([
    ['', true],
    ['v1.2_3-x', true],
    ['-x', false],
    ['with space', false],
  ])('label value %j valid: %s', (v, ok) => expect(isValidLabelValue(v)).toBe(ok));

  it('healthOf and addressOf', () => {
    expect(healthOf('UP', ['UP'])).toBe('healthy');
    expect(addressOf({ ipAddr: '1.2.3.4', hostName: 'h' }, false)).toBe('1.2.3.4');
    expect(addressOf({ ipAddr: 'junk', hostName: '' }, false)).toBeUndefined();
    expect(localityOf({ dataCenterInfo: { name: 'MyOwn', metadata: { 'availability-zone': 'us-east-1a' } } }, {})).toBeUndefined();
  });
});
