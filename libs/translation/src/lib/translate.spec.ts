import fc from 'fast-check';
import { ServiceRecord } from '@registry-bridge/contract';
import { renderHost } from './host-template.util';
import { isDns1123Label, localAddressKind } from './names';
import { OBJECT_BYTE_BUDGET } from './object-budget.util';
import { ANNOTATIONS, isOwnedBy, isReservedLabelKey, LABELS, TLS_MODE_LABEL } from './ownership';
import { SourceRules } from './source-rules';
import { testRules as rules } from './source-rules.testing';
import { testEndpoint as ep, testRecord as record } from './service-record.testing';
import { specHash } from './spec-hash.util';
import { translateRecord } from './translate';
import type { TranslationResult } from './translation.types';

function ok(r: TranslationResult) {
  if (!r.ok) throw new Error(`expected success, got ${r.reason}: ${r.detail}`);
  return r;
}

describe('translateRecord: hosts', () => {
  it.each<[string, Partial<ServiceRecord>, Partial<SourceRules>]>([
    ['consul default', {}, {}],
    ['cloud map service.namespace', { source: { name: 'cm', kind: 'cloudmap' }, service: 'api', scope: 'prod.local' }, { source: 'cm', kind: 'cloudmap', hostTemplate: '{service}.{scope}', allowedHostSuffixes: ['.local'] }],
  ])('writes the rendered host as the only host: %s', (_n, rec, rl) => {
    const r = ok(translateRecord(record(rec), rules(rl)));
    const rendered = renderHost(record(rec), rules(rl));
    expect(rendered.ok && rendered.host).toBe(r.host);
    expect(r.serviceEntry.spec.hosts).toEqual([r.host]);
  });

  it('refuses what renderHost refuses, with its reason, detail and host', () => {
    const r = translateRecord(record({ service: 'x' }), rules({ hostTemplate: '*.service.consul' }));
    expect(r).toEqual({ key: 'consul-dc1//x', ...renderHost(record({ service: 'x' }), rules({ hostTemplate: '*.service.consul' })) });
    expect(!r.ok && r.reason).toBe('host-wildcard');
  });

  it.each<[string, Partial<ServiceRecord>, Partial<SourceRules>, string]>([
    ['no ports', { ports: [] }, {}, 'no-ports'],
    ['rules of another source', { source: { name: 'other', kind: 'consul' } }, {}, 'source-mismatch'],
  ])('refuses %s', (_n, rec, rl, reason) => {
    const r = translateRecord(record(rec), rules(rl));
    expect(r.ok).toBe(false);
    expect(!r.ok && r.reason).toBe(reason);
  });
});

describe('translateRecord: names and ownership', () => {
  it('names objects deterministically as DNS-1123 labels with a hash of the key', () => {
    const a = ok(translateRecord(record(), rules()));
    const b = ok(translateRecord(record({ revision: 99, observedAt: '2030-01-01T00:00:00Z' }), rules()));
    expect(a.serviceEntry.metadata.name).toBe(b.serviceEntry.metadata.name);
    expect(a.serviceEntry.metadata.name).toMatch(/^consul-dc1-web-[0-9a-f]{8}$/);
  });

  it('keeps names of services over 63 characters within 63 and distinct', () => {
    const long1 = 'x'.repeat(200) + 'a';
    const long2 = 'x'.repeat(200) + 'b';
    const rl = rules({ hostTemplate: 'svc-{source}.consul' });
    const n1 = ok(translateRecord(record({ service: long1 }), rl)).serviceEntry.metadata.name;
    const n2 = ok(translateRecord(record({ service: long2 }), rl)).serviceEntry.metadata.name;
    expect(n1.length).toBeLessThanOrEqual(63);
    expect(isDns1123Label(n1)).toBe(true);
    expect(n1).not.toBe(n2);
  });

  it('carries ownership labels and the original registry names', () => {
    const se = ok(translateRecord(record({ scope: 'ns1' }), rules({ installation: 'prod', labels: { team: 'edge' } }))).serviceEntry;
    expect(se.metadata.labels).toMatchObject({
      [LABELS.managedBy]: 'registry-bridge',
      [LABELS.installation]: 'prod',
      [LABELS.registry]: 'consul',
      [LABELS.source]: 'consul-dc1',
      team: 'edge',
    });
    expect(se.metadata.annotations).toMatchObject({ [ANNOTATIONS.service]: 'web', [ANNOTATIONS.scope]: 'ns1', [ANNOTATIONS.serviceKey]: 'consul-dc1/ns1/web' });
    expect(isOwnedBy(se.metadata, 'prod')).toBe(true);
    expect(isOwnedBy(se.metadata, 'other')).toBe(false);
    expect(isOwnedBy({ labels: { [LABELS.managedBy]: 'helm' } }, 'prod')).toBe(false);
  });

  it('writes the spec hash that no-op detection compares, independent of revision and time', () => {
    const a = ok(translateRecord(record(), rules())).serviceEntry;
    const b = ok(translateRecord(record({ revision: 8, observedAt: '2027-01-01T00:00:00Z' }), rules())).serviceEntry;
    const c = ok(translateRecord(record({ endpoints: [ep('web-1', '10.0.0.9')] }), rules())).serviceEntry;
    expect(a.metadata.annotations[ANNOTATIONS.specHash]).toBe(specHash(a));
    expect(a.metadata.annotations[ANNOTATIONS.specHash]).toBe(b.metadata.annotations[ANNOTATIONS.specHash]);
    expect(a.metadata.annotations[ANNOTATIONS.specHash]).not.toBe(c.metadata.annotations[ANNOTATIONS.specHash]);
  });

  it('does not change the hash when the registry reorders endpoints', () => {
    const a = ok(translateRecord(record(), rules())).serviceEntry;
    const b = ok(translateRecord(record({ endpoints: [ep('web-2', '10.0.0.2'), ep('web-1', '10.0.0.1')] }), rules())).serviceEntry;
    expect(b.metadata.annotations[ANNOTATIONS.specHash]).toBe(a.metadata.annotations[ANNOTATIONS.specHash]);
  });
});

describe('translateRecord: ports and protocols', () => {
  it('maps ports that differ per endpoint', () => {
    const r = ok(
      translateRecord(
        record({ endpoints: [ep('a', '10.0.0.1', { ports: { http: 8080 } }), ep('b', '10.0.0.2', { ports: { http: 9090 } }), ep('c', '10.0.0.3', { ports: { nope: 1 } })] }),
        rules(),
      ),
    );
    expect(r.serviceEntry.spec.endpoints).toEqual([{ address: '10.0.0.1' }, { address: '10.0.0.2', ports: { http: 9090 } }, { address: '10.0.0.3' }]);
    expect(r.dropCounts['endpoint-port-unknown']).toBe(1);
  });
});
describe('translateRecord: endpoints', () => {
  it.each<[string, ServiceRecord['endpoints'], 'STATIC' | 'DNS', string[]]>([
    ['IPv4', [ep('a', '10.0.0.1')], 'STATIC', ['10.0.0.1']],
    ['IPv6', [ep('a', '2001:db8::1')], 'STATIC', ['2001:db8::1']],
    ['host names use DNS and are lower-cased', [ep('a', 'Api.Example.COM.')], 'DNS', ['api.example.com']],
    ['bad addresses dropped', [ep('a', 'not an ip'), ep('b', '300.1.1.1'), ep('c', '10.0.0.3')], 'STATIC', ['10.0.0.3']],
    ['duplicate ids dropped', [ep('a', '10.0.0.1'), ep('a', '10.0.0.2')], 'STATIC', ['10.0.0.1']],
    ['same address and port twice dropped', [ep('a', '10.0.0.1'), ep('b', '10.0.0.1')], 'STATIC', ['10.0.0.1']],
    ['unhealthy hostname keeps DNS resolution', [ep('a', '10.0.0.1'), ep('b', 'x.example.com', { health: 'unhealthy' })], 'DNS', ['10.0.0.1']],
  ])('%s', (_n, endpoints, resolution, addresses) => {
    const r = ok(translateRecord(record({ endpoints }), rules()));
    expect(r.serviceEntry.spec.resolution).toBe(resolution);
    expect(r.serviceEntry.spec.endpoints?.map((e) => e.address)).toEqual(addresses);
  });

  it.each<[string, Array<'healthy' | 'unhealthy' | 'unknown'>, string[]]>([
    ['healthy only by default', ['healthy'], ['10.0.0.1']],
    ['unknown included when configured', ['healthy', 'unknown'], ['10.0.0.1', '10.0.0.3']],
  ])('health: %s', (_n, includeHealth, addresses) => {
    const endpoints = [ep('a', '10.0.0.1'), ep('b', '10.0.0.2', { health: 'unhealthy' }), ep('c', '10.0.0.3', { health: 'unknown' })];
    const r = ok(translateRecord(record({ endpoints }), rules({ includeHealth })));
    expect(r.serviceEntry.spec.endpoints?.map((e) => e.address)).toEqual(addresses);
  });

  it('keeps the ServiceEntry with no endpoints when all are unhealthy', () => {
    const r = ok(translateRecord(record({ endpoints: [ep('a', '10.0.0.1', { health: 'unhealthy' })] }), rules()));
    expect(r.serviceEntry.spec.endpoints).toEqual([]);
    expect(r.serviceEntry.spec.hosts).toEqual(['web.service.consul']);
  });

  it('carries locality, weight, network and service account', () => {
    const r = ok(translateRecord(record({ endpoints: [ep('a', '10.0.0.1', { locality: 'us-east-1/us-east-1a', weight: 3 })] }), rules({ network: 'vm-net', serviceAccount: 'legacy' })));
    // a service account without sidecars: plaintext, or Istio would assume mutual TLS
    expect(r.serviceEntry.spec.endpoints).toEqual([
      { address: '10.0.0.1', labels: { 'security.istio.io/tlsMode': 'disabled' }, locality: 'us-east-1/us-east-1a', weight: 3, network: 'vm-net', serviceAccount: 'legacy' },
    ]);
  });

  it('caps 5,000 inline endpoints at the CRD limit and counts the rest', () => {
    const endpoints = Array.from({ length: 5000 }, (_, i) => ep(`e${String(i).padStart(5, '0')}`, `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`));
    const r = ok(translateRecord(record({ endpoints }), rules()));
    expect(r.serviceEntry.spec.endpoints).toHaveLength(4096);
    expect(r.drops.some((d) => d.reason === 'endpoint-over-limit' && d.detail.startsWith('904 endpoints'))).toBe(true);
  });

  it('writes 5,000 WorkloadEntries in workloadEntry mode', () => {
    const endpoints = Array.from({ length: 5000 }, (_, i) => ep(`e${i}`, `10.1.${(i >> 8) & 255}.${i & 255}`));
    const r = ok(translateRecord(record({ endpoints }), rules({ endpointMode: 'workloadEntry' })));
    expect(r.workloadEntries).toHaveLength(5000);
    expect(new Set(r.workloadEntries.map((w) => w.metadata.name)).size).toBe(5000);
  });
});

describe('translateRecord: workloadEntry mode', () => {
  const r = ok(
    translateRecord(
      record({ endpoints: [ep('web-1', '10.0.0.1', { labels: { version: 'v1' }, locality: 'r/z', weight: 2, ports: { http: 9000 } }), ep('web-2', '10.0.0.2', { health: 'unhealthy' })] }),
      rules({ endpointMode: 'workloadEntry', serviceAccount: 'sa' }),
    ),
  );

  it('selects WorkloadEntries instead of inline endpoints', () => {
    const name = r.serviceEntry.metadata.name;
    expect(r.serviceEntry.spec.endpoints).toBeUndefined();
    expect(r.serviceEntry.spec.workloadSelector).toEqual({ labels: { [LABELS.serviceEntry]: name } });
  });

  it('writes one WorkloadEntry per healthy instance with labels, locality, weight, ports and service account', () => {
    expect(r.workloadEntries).toHaveLength(1);
    const we = r.workloadEntries[0];
    expect(we.metadata.name).toMatch(new RegExp(`^${r.serviceEntry.metadata.name}-[0-9a-f]{8}$`));
    expect(we.metadata.labels[LABELS.managedBy]).toBe('registry-bridge');
    expect(we.metadata.annotations[ANNOTATIONS.endpointId]).toBe('web-1');
    expect(we.spec).toEqual({
      address: '10.0.0.1',
      ports: { http: 9000 },
      labels: { 'security.istio.io/tlsMode': 'disabled', version: 'v1', [LABELS.serviceEntry]: r.serviceEntry.metadata.name },
      locality: 'r/z',
      weight: 2,
      serviceAccount: 'sa',
    });
  });
});

describe('translateRecord: properties', () => {
  const arbEndpoint = fc.record({
    id: fc.string({ minLength: 1, maxLength: 20 }),
    address: fc.oneof(fc.ipV4(), fc.ipV6(), fc.domain(), fc.string({ maxLength: 30 })),
    ports: fc.dictionary(fc.constantFrom('http', 'grpc', 'x'), fc.integer({ min: 1, max: 65535 })),
    labels: fc.dictionary(fc.string({ maxLength: 70 }), fc.string({ maxLength: 70 }), { maxKeys: 5 }),
    health: fc.constantFrom('healthy' as const, 'unhealthy' as const, 'unknown' as const),
  });
  const arbRecord = fc.record({
    service: fc.string({ minLength: 1, maxLength: 300 }),
    ports: fc.array(fc.record({ name: fc.string({ minLength: 1, maxLength: 20 }), number: fc.integer({ min: 1, max: 65535 }), protocol: fc.option(fc.string({ minLength: 1, maxLength: 8 }), { nil: undefined }) }), { maxLength: 8 }),
    endpoints: fc.array(arbEndpoint, { maxLength: 30 }),
  });

  it('never throws and always yields CRD-valid names, labels, ports and addresses', () => {
    fc.assert(
      fc.property(arbRecord, fc.constantFrom<'inline' | 'workloadEntry'>('inline', 'workloadEntry'), (partial, endpointMode) => {
        const r = translateRecord(record(partial), rules({ endpointMode }));
        if (!r.ok) return;
        const se = r.serviceEntry;
        expect(isDns1123Label(se.metadata.name)).toBe(true);
        const numbers = (se.spec.ports ?? []).map((p) => p.number);
        expect(new Set(numbers).size).toBe(numbers.length);
        // Istio rejects a port name that is not a DNS-1123 label, on every retry
        const names = (se.spec.ports ?? []).map((p) => p.name);
        for (const n of names) expect(isDns1123Label(n)).toBe(true);
        expect(new Set(names).size).toBe(names.length);
        for (const e of [...(se.spec.endpoints ?? []), ...r.workloadEntries.map((w) => w.spec)]) {
          expect(e.address).toMatch(/^[0-9a-f:.a-z-]+$/);
          for (const k of Object.keys(e.labels ?? {})) expect(k).not.toMatch(/\s/);
        }
        for (const we of r.workloadEntries) expect(we.metadata.name.length).toBeLessThanOrEqual(253);
      }),
      { numRuns: 300 },
    );
  });

  // Hostile registry names: dots, slashes, unicode, wildcards, template syntax, 300 characters.
  const arbName = fc.oneof(
    fc.string({ minLength: 1, maxLength: 300, unit: 'grapheme' }),
    fc.constantFrom('*', '*.evil.com', 'a.b.c', 'team/api', 'api.bank.example.com', '{service}', 'сервис-ü', 'x'.repeat(300), 'web.service.consul', '..', 'a..b'),
  );

  it('gives two different service keys two different object names', () => {
    fc.assert(
      fc.property(arbName, arbName, (a, b) => {
        fc.pre(a !== b);
        const ra = translateRecord(record({ service: a }), rules({ hostTemplate: 'svc-{service}.service.consul' }));
        const rb = translateRecord(record({ service: b }), rules({ hostTemplate: 'svc-{service}.service.consul' }));
        if (ra.ok && rb.ok) expect(ra.serviceEntry.metadata.name).not.toBe(rb.serviceEntry.metadata.name);
      }),
      { numRuns: 300 },
    );
  });

  it('is deterministic and does not depend on the order of the endpoints', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(arbEndpoint, { maxLength: 20, selector: (e) => e.id }).chain((es) => fc.tuple(fc.constant(es), fc.shuffledSubarray(es, { minLength: es.length, maxLength: es.length }))),
        fc.constantFrom<'inline' | 'workloadEntry'>('inline', 'workloadEntry'),
        ([a, b], endpointMode) => {
          const ta = translateRecord(record({ endpoints: a }), rules({ endpointMode }));
          const tb = translateRecord(record({ endpoints: b }), rules({ endpointMode }));
          expect(JSON.stringify(tb)).toBe(JSON.stringify(ta));
        },
      ),
      { numRuns: 200 },
    );
  });

  it('never writes a local address, a reserved label or a port that one of the written endpoints does not serve', () => {
    fc.assert(
      fc.property(
        arbRecord.chain((r) =>
          fc.record({
            // distinct names and numbers, so "the port named n" is one port
            ports: fc.uniqueArray(fc.record({ name: fc.constantFrom('http', 'grpc', 'x', 'y'), number: fc.integer({ min: 1, max: 65535 }) }), { selector: (p) => p.name, maxLength: 4 }).map((ps) =>
              ps.filter((p, i) => ps.findIndex((q) => q.number === p.number) === i),
            ),
            endpoints: fc.constant(r.endpoints),
          }),
        ),
        fc.array(fc.constantFrom('127.0.0.1', '::1', '0.0.0.0', '169.254.1.1', 'fe80::2', 'localhost', 'a.localhost'), { maxLength: 3 }),
        fc.constantFrom<'inline' | 'workloadEntry'>('inline', 'workloadEntry'),
        fc.boolean(),
        (partial, locals, endpointMode, sidecars) => {
          const endpoints = [...partial.endpoints, ...locals.map((address, i) => ({ id: `local-${i}`, address, ports: {}, labels: { 'topology.istio.io/network': 'x', 'istio-locality': 'r' }, health: 'healthy' as const }))];
          const rec = record({ ...partial, endpoints });
          const r = translateRecord(rec, rules({ endpointMode, sidecars, serviceAccount: 'sa' }));
          if (!r.ok) return;
          const written = endpointMode === 'inline' ? (r.serviceEntry.spec.endpoints ?? []) : r.workloadEntries.map((w) => w.spec);
          for (const e of written) {
            expect(localAddressKind(e.address ?? '')).toBeUndefined();
            for (const k of Object.keys(e.labels ?? {})) if (k !== TLS_MODE_LABEL && k !== LABELS.serviceEntry) expect(isReservedLabelKey(k)).toBe(false);
            expect(e.labels?.[TLS_MODE_LABEL]).toBe(sidecars ? 'istio' : 'disabled');
          }
          // every written endpoint serves every written port: its own ports name each of them, or it names none of the service's
          const numberOf = new Map(rec.ports.map((p) => [p.name, p.number]));
          const byAddress = new Map(rec.endpoints.map((e) => [e.address.toLowerCase().replace(/\.$/, ''), e]));
          for (const e of written) {
            const served = Object.keys(byAddress.get(e.address ?? '')?.ports ?? {}).flatMap((n) => numberOf.get(n) ?? []);
            if (served.length > 0) for (const p of r.serviceEntry.spec.ports ?? []) expect(served).toContain(p.number);
          }
          expect(Buffer.byteLength(JSON.stringify(r.serviceEntry))).toBeLessThanOrEqual(OBJECT_BYTE_BUDGET);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('writes only endpoints whose health is included', () => {
    fc.assert(
      fc.property(fc.array(arbEndpoint, { maxLength: 30 }), (endpoints) => {
        const r = translateRecord(record({ endpoints }), rules());
        if (!r.ok) return;
        // host names are written lower-cased without a trailing dot
        const canon = (a: string) => a.toLowerCase().replace(/\.$/, '');
        const healthy = new Set(endpoints.filter((e) => e.health === 'healthy').map((e) => canon(e.address)));
        for (const e of r.serviceEntry.spec.endpoints ?? []) expect(healthy.has(canon(e.address ?? ''))).toBe(true);
      }),
      { numRuns: 200 },
    );
  });
});

describe('translateRecord: correct for Istio (issue 16)', () => {
  const TLS = 'security.istio.io/tlsMode';

  it.each<[string, Partial<SourceRules>, string | undefined]>([
    ['service account without sidecars: plaintext', { serviceAccount: 'legacy' }, 'disabled'],
    ['service account with sidecars: mutual TLS', { serviceAccount: 'legacy', sidecars: true }, 'istio'],
    ['sidecars without service account: mutual TLS', { sidecars: true }, 'istio'],
    ['neither: no label (Istio treats it as disabled)', {}, undefined],
  ])('tlsMode label: %s', (_n, rl, mode) => {
    for (const endpointMode of ['inline', 'workloadEntry'] as const) {
      const r = ok(translateRecord(record({ endpoints: [ep('a', '10.0.0.1')] }), rules({ ...rl, endpointMode })));
      const labels = endpointMode === 'inline' ? r.serviceEntry.spec.endpoints?.[0].labels : r.workloadEntries[0].spec.labels;
      expect([endpointMode, labels?.[TLS]]).toEqual([endpointMode, mode]);
    }
  });

  it('refuses workloadEntry mode in istio-system, where Kubernetes Services would select WorkloadEntries by registry labels', () => {
    const r = translateRecord(record(), rules({ endpointMode: 'workloadEntry', namespace: 'istio-system' }));
    expect(r.ok).toBe(false);
    expect(!r.ok && r.reason).toBe('namespace-not-allowed');
    expect(!r.ok && r.detail).toMatch(/istio-system.*namespace of its own/);
    expect(ok(translateRecord(record(), rules({ endpointMode: 'workloadEntry', namespace: 'mesh-vms' }))).workloadEntries).toHaveLength(2);
  });

  it('writes "." once when exportTo also names the own namespace (Istio rejects the pair as a duplicate)', () => {
    const r = ok(translateRecord(record(), rules({ namespace: 'mesh', exportTo: ['.', 'mesh', 'team-a'] })));
    expect(r.serviceEntry.spec.exportTo).toEqual(['.', 'team-a']);
  });

  it.each<['inline' | 'workloadEntry']>([['inline'], ['workloadEntry']])('%s: no kept endpoints means STATIC resolution (no DNS fallback to the host)', (endpointMode) => {
    const endpoints = [ep('a', 'vm-a.example.com', { health: 'unhealthy' }), ep('b', 'vm-b.example.com', { health: 'unhealthy' })];
    const r = ok(translateRecord(record({ endpoints }), rules({ endpointMode })));
    expect(r.serviceEntry.spec.resolution).toBe('STATIC');
    expect(r.serviceEntry.spec.endpoints ?? []).toEqual([]);
    expect(r.workloadEntries).toEqual([]);
    // with a healthy host name it resolves by DNS again
    const back = ok(translateRecord(record({ endpoints: [endpoints[0], { ...endpoints[1], health: 'healthy' }] }), rules({ endpointMode })));
    expect(back.serviceEntry.spec.resolution).toBe('DNS');
  });

  describe('an endpoint is reachable only on ports it serves', () => {
    const ports = [
      { name: 'http', number: 8080, protocol: 'HTTP' },
      { name: 'https', number: 8443, protocol: 'HTTPS' },
    ];

    it.each<['inline' | 'workloadEntry']>([['inline'], ['workloadEntry']])('%s: a port only some instances serve is not written', (endpointMode) => {
      const endpoints = [ep('a', '10.0.0.1', { ports: { http: 8080, https: 8443 } }), ep('b', '10.0.0.2', { ports: { http: 8080 } })];
      const r = ok(translateRecord(record({ ports, endpoints }), rules({ endpointMode })));
      expect(r.serviceEntry.spec.ports).toEqual([{ name: 'http', number: 8080, protocol: 'HTTP' }]);
      expect(r.dropCounts['port-not-served-by-all']).toBe(1);
      expect(r.drops.find((d) => d.reason === 'port-not-served-by-all')?.detail).toMatch(/https\/8443.*1 of 2/);
    });

    it('keeps a port every instance serves, each on its own number', () => {
      const endpoints = [ep('a', '10.0.0.1', { ports: { http: 8080, https: 8443 } }), ep('b', '10.0.0.2', { ports: { http: 9080, https: 9443 } })];
      const r = ok(translateRecord(record({ ports, endpoints }), rules()));
      expect(r.serviceEntry.spec.ports?.map((p) => p.name)).toEqual(['http', 'https']);
      expect(r.serviceEntry.spec.endpoints).toEqual([{ address: '10.0.0.1' }, { address: '10.0.0.2', ports: { http: 9080, https: 9443 } }]);
    });

    it('an endpoint with no ports of its own serves every service port', () => {
      const r = ok(translateRecord(record({ ports, endpoints: [ep('a', '10.0.0.1'), ep('b', '10.0.0.2', { ports: { http: 8080, https: 8443 } })] }), rules()));
      expect(r.serviceEntry.spec.ports).toHaveLength(2);
    });

    it('instances on disjoint ports: the port most instances serve is kept, the others are dropped with their endpoints', () => {
      const cmPorts = [
        { name: 'grpc', number: 9090, protocol: 'GRPC' },
        { name: 'http', number: 8080, protocol: 'HTTP' },
      ];
      const endpoints = [ep('a', '10.0.0.1', { ports: { http: 8080 } }), ep('b', '10.0.0.2', { ports: { http: 8080 } }), ep('c', '10.0.0.3', { ports: { grpc: 9090 } })];
      const r = ok(translateRecord(record({ ports: cmPorts, endpoints }), rules()));
      expect(r.serviceEntry.spec.ports).toEqual([{ name: 'http', number: 8080, protocol: 'HTTP' }]);
      expect(r.serviceEntry.spec.endpoints?.map((e) => e.address)).toEqual(['10.0.0.1', '10.0.0.2']);
      expect(r.dropCounts['endpoint-port-not-served']).toBe(1);
    });

    it('does not change the port set when health changes', () => {
      const endpoints = [ep('a', '10.0.0.1', { ports: { http: 8080, https: 8443 } }), ep('b', '10.0.0.2', { ports: { http: 8080 }, health: 'unhealthy' })];
      const r = ok(translateRecord(record({ ports, endpoints }), rules()));
      expect(r.serviceEntry.spec.ports?.map((p) => p.name)).toEqual(['http']);
    });
  });

  it('keeps an inline ServiceEntry with labelled endpoints under the byte budget, dropping the rest with a reason', () => {
    const labels = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`label-key-${i}`, 'v'.repeat(63)]));
    const endpoints = Array.from({ length: 4096 }, (_, i) => ep(`e${String(i).padStart(5, '0')}`, `10.0.${(i >> 8) & 255}.${i & 255}`, { labels, locality: 'us-east-1/us-east-1a', weight: 1 }));
    const r = ok(translateRecord(record({ endpoints }), rules()));
    const bytes = Buffer.byteLength(JSON.stringify(r.serviceEntry));
    expect(bytes).toBeLessThanOrEqual(OBJECT_BYTE_BUDGET);
    const kept = r.serviceEntry.spec.endpoints?.length ?? 0;
    expect(kept).toBeGreaterThan(0);
    expect(r.dropCounts['endpoint-over-size']).toBe(4096 - kept);
    expect(r.drops.find((d) => d.reason === 'endpoint-over-size')?.detail).toMatch(/byte budget.*workloadEntry/);
  });
});
