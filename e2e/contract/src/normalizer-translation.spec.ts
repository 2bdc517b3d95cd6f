import { RegistryKind, ServiceRecord, serviceRecordSchema, ServiceRecordInput } from '@registry-bridge/contract';
import { buildServiceRecord, CloudMapServiceRef, RawInstance } from '@registry-bridge/registry-cloudmap';
import { ConsulHealthEntry, consulNormalizeSchema, normalizeService } from '@registry-bridge/registry-consul';
import { DEFAULT_NORMALIZE_OPTIONS, EurekaInstanceJson, normalizeApp } from '@registry-bridge/registry-eureka';
import { HOST_TEMPLATE_VARIABLES, sourceRules, TLS_MODE_LABEL, translateRecord, TranslationResult } from '@registry-bridge/translation';
import { writerConfigSchema } from '@registry-bridge/config';

// The translator reads record fields and metadata keys that the normalizers write; the two sides
// live in libs that may not import each other, so only a test that holds both can see a mismatch
// (issue 16.4: the translator read `datacenter`, the Consul normalizer wrote `consul.datacenter`).

const observedAt = '2026-12-06T08:00:00.000Z';

/** As the writer parses an ingest message: the translator only ever sees parsed records. */
const parsed = (input: ServiceRecordInput): ServiceRecord => serviceRecordSchema.parse(input);

// --- Consul: /v1/health/service/<name> entries as a Consul agent returns them --------------------
const consulEntry = (node: string, address: string, id: string, port: number, over: Partial<NonNullable<ConsulHealthEntry['Service']>> = {}, status = 'passing'): ConsulHealthEntry => ({
  Node: { Node: node, Address: address, Datacenter: 'dc1', Meta: { 'consul-network-segment': '' }, ModifyIndex: 12 },
  Service: { ID: id, Service: 'web', Tags: ['primary', 'version=v2'], Address: '', Port: port, Meta: { protocol: 'http' }, Weights: { Passing: 1, Warning: 1 }, ModifyIndex: 40, ...over },
  Checks: [
    { CheckID: 'serfHealth', Status: 'passing', ModifyIndex: 10 },
    { CheckID: `service:${id}`, Status: status, ServiceID: id, ModifyIndex: 41 },
  ],
});

function consulRecord(entries: ConsulHealthEntry[], datacenter?: string): ServiceRecord {
  const { record } = normalizeService(entries, {
    source: { name: 'consul-dc1', kind: 'consul' },
    service: 'web',
    datacenter,
    revision: 41,
    observedAt,
    options: consulNormalizeSchema.parse({}),
    instanceTagsPass: () => true,
    includeConnect: false,
  });
  return parsed(record);
}

// --- Eureka: instances of one application as /eureka/apps returns them (JSON) ----------------------
const eurekaInstance = (id: string, ip: string, over: Partial<EurekaInstanceJson> = {}): EurekaInstanceJson => ({
  instanceId: id,
  hostName: `${id}.corp.example.com`,
  app: 'ORDER-SERVICE',
  ipAddr: ip,
  status: 'UP',
  overriddenStatus: 'UNKNOWN',
  port: { $: 8080, '@enabled': 'true' },
  securePort: { $: 8443, '@enabled': 'false' },
  vipAddress: 'order-service',
  dataCenterInfo: { name: 'Amazon', metadata: { 'availability-zone': 'us-east-1a' } },
  metadata: { 'management.port': '8081', version: 'v3' },
  lastUpdatedTimestamp: '1764950000000',
  lastDirtyTimestamp: '1764950000000',
  actionType: 'ADDED',
  ...over,
});

function eurekaRecord(instances: EurekaInstanceJson[]): ServiceRecord {
  const { app } = normalizeApp('ORDER-SERVICE', instances, { ...DEFAULT_NORMALIZE_OPTIONS, source: { name: 'eureka-prod', kind: 'eureka' } });
  if (!app) throw new Error('the Eureka normalizer refused the app');
  // as the Eureka syncer sends it
  return parsed({ source: { name: 'eureka-prod', kind: 'eureka' }, service: app.service, ports: app.ports, endpoints: app.endpoints, metadata: app.metadata, revision: app.registryRevision, observedAt });
}

// --- Cloud Map: DiscoverInstances results ----------------------------------------------------------
const cmService: CloudMapServiceRef = { id: 'srv-abc123', name: 'payments', namespaceId: 'ns-xyz789', namespaceName: 'prod.local', namespaceType: 'DNS_PRIVATE', healthCheck: 'custom' };
const cmInstance = (id: string, ip: string, attrs: Record<string, string> = {}): RawInstance => ({
  id,
  attributes: { AWS_INSTANCE_IPV4: ip, AWS_INSTANCE_PORT: '8080', AVAILABILITY_ZONE: 'us-east-1a', protocol: 'http', team: 'payments', ...attrs },
  healthStatus: 'HEALTHY',
});

function cloudMapRecord(instances: RawInstance[]): ServiceRecord {
  const { record } = buildServiceRecord(cmService, instances, 7, { source: 'cloudmap-use1', region: 'us-east-1', protocolAttribute: 'protocol', observedAt });
  return parsed(record);
}

const config = writerConfigSchema.parse({
  redis: { url: 'redis://127.0.0.1:6379' },
  defaults: { namespace: 'mesh-external' },
  sources: { 'consul-dc1': { kind: 'consul' }, 'eureka-prod': { kind: 'eureka' }, 'cloudmap-use1': { kind: 'cloudmap' } },
});

function translate(record: ServiceRecord, over: Record<string, unknown> = {}): Extract<TranslationResult, { ok: true }> {
  const base = sourceRules(config).get(record.source.name);
  if (!base) throw new Error(`no rules for ${record.source.name}`);
  const r = translateRecord(record, { ...base, ...over });
  if (!r.ok) throw new Error(`refused: ${r.reason}: ${r.detail}`);
  return r;
}

const realRecords: Record<RegistryKind, () => ServiceRecord> = {
  consul: () => consulRecord([consulEntry('node-1', '10.41.0.1', 'web-a', 8080), consulEntry('node-2', '10.41.0.2', 'web-b', 8080)]),
  eureka: () => eurekaRecord([eurekaInstance('order-1', '10.42.0.1'), eurekaInstance('order-2', '10.42.0.2')]),
  cloudmap: () => cloudMapRecord([cmInstance('i-1', '10.43.0.1'), cmInstance('i-2', '10.43.0.2')]),
};

describe('every host template variable the translator reads is written by the normalizers that claim it', () => {
  const cases = Object.entries(HOST_TEMPLATE_VARIABLES).flatMap(([name, v]) => v.kinds.map((kind) => [name, kind] as const));

  it.each(cases)('{%s} from the %s normalizer', (name, kind) => {
    const record = realRecords[kind]();
    const variable = HOST_TEMPLATE_VARIABLES[name];
    if (variable.metadataKey) expect(Object.keys(record.metadata)).toContain(variable.metadataKey);
    const value = variable.value(record);
    expect(value).toEqual(expect.stringMatching(/\S/));
    // and a template using it renders a host carrying it
    const r = translate(record, { hostTemplate: `{${name}}.x.consul`, allowedHostSuffixes: ['.consul'] });
    expect(r.host).toBe(`${(value ?? '').toLowerCase().replace(/_/g, '-')}.x.consul`);
  });

  it.each<[string, string | undefined]>([
    ['from the node', undefined],
    ['from the source config', 'dc1'],
  ])('the README Consul template {service}.service.{datacenter}.consul renders the datacenter %s', (_n, datacenter) => {
    const record = consulRecord([consulEntry('node-1', '10.41.0.1', 'web-a', 8080)], datacenter);
    expect(translate(record, { hostTemplate: '{service}.service.{datacenter}.consul' }).host).toBe('web.service.dc1.consul');
  });

  it.each<[RegistryKind, string]>([
    ['consul', 'web.service.consul'],
    ['eureka', 'order-service.eureka'],
    ['cloudmap', 'payments.prod.local'],
  ])('the default %s host is %s and allowed by default', (kind, host) => {
    expect(translate(realRecords[kind]()).host).toBe(host);
  });
});

describe('per-endpoint ports from the normalizers: an instance is reachable only on ports it serves', () => {
  it('Eureka: one instance with securePort enabled does not open 8443 on the others', () => {
    const record = eurekaRecord([eurekaInstance('order-1', '10.42.0.1', { securePort: { $: 8443, '@enabled': 'true' } }), eurekaInstance('order-2', '10.42.0.2')]);
    expect(record.ports.map((p) => p.number).sort()).toEqual([8080, 8443]);
    const r = translate(record);
    expect(r.serviceEntry.spec.ports?.map((p) => p.number)).toEqual([8080]);
    expect(r.serviceEntry.spec.endpoints?.map((e) => e.address)).toEqual(['10.42.0.1', '10.42.0.2']);
    expect(r.dropCounts['port-not-served-by-all']).toBe(1);
  });

  it('Eureka: every instance with both ports keeps both', () => {
    const both = { securePort: { $: 8443, '@enabled': 'true' } };
    const r = translate(eurekaRecord([eurekaInstance('order-1', '10.42.0.1', both), eurekaInstance('order-2', '10.42.0.2', both)]));
    expect(r.serviceEntry.spec.ports?.map((p) => p.number).sort()).toEqual([8080, 8443]);
  });

  it('Cloud Map: instances with different protocol attributes are not reachable on each other\'s port', () => {
    const record = cloudMapRecord([cmInstance('i-1', '10.43.0.1'), cmInstance('i-2', '10.43.0.2'), cmInstance('i-3', '10.43.0.3', { protocol: 'grpc', AWS_INSTANCE_PORT: '9090' })]);
    expect(record.ports.map((p) => p.name).sort()).toEqual(['grpc', 'http']);
    const r = translate(record);
    expect(r.serviceEntry.spec.ports).toEqual([{ name: 'http', number: 8080, protocol: 'HTTP' }]);
    expect(r.serviceEntry.spec.endpoints?.map((e) => e.address)).toEqual(['10.43.0.1', '10.43.0.2']);
    expect(r.dropCounts['endpoint-port-not-served']).toBe(1);
  });

  it('Consul: an instance on another port keeps its own number for the one service port', () => {
    const r = translate(consulRecord([consulEntry('node-1', '10.41.0.1', 'web-a', 8080), consulEntry('node-2', '10.41.0.2', 'web-b', 8080), consulEntry('node-3', '10.41.0.3', 'web-c', 9090)]));
    expect(r.serviceEntry.spec.ports).toEqual([{ name: 'http', number: 8080, protocol: 'HTTP' }]);
    expect(r.serviceEntry.spec.endpoints?.find((e) => e.address === '10.41.0.3')?.ports).toEqual({ http: 9090 });
  });
});

describe('registry data the translator must not pass through', () => {
  it.each<[RegistryKind, () => ServiceRecord]>([
    ['consul', () => consulRecord([consulEntry('node-1', '10.41.0.1', 'web-a', 8080, { Tags: ['security.istio.io/tlsMode=istio', 'topology.istio.io/network=vm', 'version=v2'] })])],
    ['eureka', () => eurekaRecord([eurekaInstance('order-1', '10.42.0.1', { metadata: { 'security.istio.io/tlsMode': 'istio', 'topology.istio.io/network': 'vm', version: 'v3' } })])],
    ['cloudmap', () => cloudMapRecord([cmInstance('i-1', '10.43.0.1', { 'security.istio.io/tlsMode': 'istio', 'topology.istio.io/network': 'vm', version: 'v1' })])],
  ])('%s: Istio labels from the registry are dropped; tlsMode is ours (disabled with a service account, no sidecars)', (_kind, make) => {
    const r = translate(make(), { serviceAccount: 'legacy-vm' });
    const labels = r.serviceEntry.spec.endpoints?.[0].labels ?? {};
    expect(labels[TLS_MODE_LABEL]).toBe('disabled');
    expect(labels['topology.istio.io/network']).toBeUndefined();
    expect(Object.keys(labels)).toContain('version');
    expect(r.dropCounts['label-reserved']).toBe(2);
  });

  it.each<[RegistryKind, () => ServiceRecord]>([
    ['consul', () => consulRecord([consulEntry('node-1', '127.0.0.1', 'web-a', 8080), consulEntry('node-2', '10.41.0.2', 'web-b', 8080)])],
    ['eureka', () => eurekaRecord([eurekaInstance('order-1', '169.254.10.10'), eurekaInstance('order-2', '10.42.0.2')])],
    ['cloudmap', () => cloudMapRecord([cmInstance('i-1', '0.0.0.0'), cmInstance('i-2', '10.43.0.2')])],
  ])('%s: a loopback, unspecified or link-local instance is dropped and counted', (_kind, make) => {
    const r = translate(make());
    expect(r.serviceEntry.spec.endpoints).toHaveLength(1);
    expect(r.dropCounts['endpoint-local-address']).toBe(1);
  });
});
