import fc from 'fast-check';
import { planEndpoint, planEndpoints } from './endpoint-plan.util';
import { TLS_MODE_LABEL } from './ownership';
import { planPorts } from './port-plan.util';
import { SourceRules } from './source-rules';
import { testRules as rules } from './source-rules.testing';
import { testEndpoint as ep, testRecord as record } from './service-record.testing';
import type { Drop } from './translation.types';

const plan = () => planPorts(record(), rules(), []);

describe('planEndpoint', () => {
  it.each<[string, Partial<SourceRules>, string | undefined, string | undefined]>([
    ['service account without sidecars: plaintext', { serviceAccount: 'legacy' }, undefined, 'disabled'],
    ['service account of the endpoint without sidecars: plaintext', {}, 'own', 'disabled'],
    ['sidecars: mutual TLS', { sidecars: true }, undefined, 'istio'],
    ['neither: no label (Istio treats it as disabled)', {}, undefined, undefined],
  ])('tlsMode label: %s', (_n, rl, serviceAccount, mode) => {
    const out = planEndpoint(ep('a', '10.0.0.1', { serviceAccount }), plan(), rules(rl), []);
    expect(out?.labels?.[TLS_MODE_LABEL]).toBe(mode);
  });

  it('never lets registry data set the tlsMode label', () => {
    const drops: Drop[] = [];
    const out = planEndpoint(ep('a', '10.0.0.1', { labels: { [TLS_MODE_LABEL]: 'istio' } }), plan(), rules({ serviceAccount: 'legacy' }), drops);
    expect(out?.labels?.[TLS_MODE_LABEL]).toBe('disabled');
    expect(drops.map((d) => d.reason)).toEqual(['label-reserved']);
  });

  it('writes a port only where it differs from the service port, and drops ports the service lacks', () => {
    const drops: Drop[] = [];
    expect(planEndpoint(ep('a', '10.0.0.1', { ports: { http: 8080 } }), plan(), rules(), drops)).toEqual({ id: 'a', address: '10.0.0.1' });
    expect(planEndpoint(ep('b', '10.0.0.2', { ports: { http: 9090, nope: 1 } }), plan(), rules(), drops)).toEqual({ id: 'b', address: '10.0.0.2', ports: { http: 9090 } });
    expect(drops.map((d) => d.reason)).toEqual(['endpoint-port-unknown']);
  });

  it('lower-cases host names and drops a trailing dot', () => {
    expect(planEndpoint(ep('a', 'Api.Example.COM.'), plan(), rules(), [])?.address).toBe('api.example.com');
  });
});

describe('planEndpoints', () => {
  it.each<[string, string]>([
    ['IPv4 loopback', '127.0.0.1'],
    ['IPv4 loopback elsewhere in 127/8', '127.8.9.10'],
    ['IPv4 unspecified', '0.0.0.0'],
    ['IPv4 link-local', '169.254.169.254'],
    ['IPv6 loopback', '::1'],
    ['IPv6 unspecified', '::'],
    ['IPv6 link-local', 'fe80::1'],
    ['IPv6 link-local upper end of fe80::/10', 'febf::1'],
    ['IPv4-mapped loopback', '::ffff:127.0.0.1'],
    ['localhost', 'localhost'],
    ['localhost with a dot', 'LOCALHOST.'],
    ['a name under localhost', 'api.localhost'],
    ['/etc/hosts name localhost.localdomain', 'localhost.localdomain'],
    ['/etc/hosts name ip6-localhost', 'ip6-localhost'],
    ['/etc/hosts name ip6-loopback', 'ip6-loopback'],
  ])('drops the %s address %s and counts it', (_n, address) => {
    const drops: Drop[] = [];
    const { kept } = planEndpoints([ep('a', address), ep('b', '10.0.0.2')], plan(), rules(), drops);
    expect(kept.map((e) => e.address)).toEqual(['10.0.0.2']);
    expect(drops.filter((d) => d.reason === 'endpoint-local-address')).toHaveLength(1);
    expect(drops.find((d) => d.reason === 'endpoint-local-address')?.detail).toContain('endpoint a');
  });

  it.each(['10.0.0.1', '169.253.0.1', 'fec0::1', '2001:db8::1', 'localhost.example.com', 'mylocalhost'])('keeps the ordinary address %s', (address) => {
    expect(planEndpoints([ep('a', address)], plan(), rules(), []).kept).toHaveLength(1);
  });

  it.each<[string, Parameters<typeof ep>[], boolean]>([
    ['IP addresses only', [['a', '10.0.0.1']], false],
    ['a healthy host name', [['a', 'vm.example.com']], true],
    ['an unhealthy host name: resolution does not flap with health', [['a', '10.0.0.1'], ['b', 'vm.example.com', { health: 'unhealthy' }]], true],
    ['an unusable address is no host name', [['a', 'not an ip'], ['b', '10.0.0.2']], false],
  ])('resolveByDns with %s', (_n, endpoints, dns) => {
    expect(planEndpoints(endpoints.map((args) => ep(...args)), plan(), rules(), []).resolveByDns).toBe(dns);
  });

  it('keeps each id once, sorted, and only endpoints whose health is included', () => {
    const arbEndpoint = fc.record({
      id: fc.constantFrom('a', 'b', 'c', 'd', 'e'),
      address: fc.oneof(fc.ipV4(), fc.domain()),
      health: fc.constantFrom('healthy' as const, 'unhealthy' as const, 'unknown' as const),
    });
    fc.assert(
      fc.property(fc.array(arbEndpoint, { maxLength: 12 }), fc.subarray(['healthy', 'unhealthy', 'unknown'] as const, { minLength: 1 }), (eps, includeHealth) => {
        const endpoints = eps.map((e) => ep(e.id, e.address, { health: e.health }));
        const { kept } = planEndpoints(endpoints, plan(), rules({ includeHealth: [...includeHealth] }), []);
        const ids = kept.map((e) => e.id);
        expect(ids).toEqual([...new Set(ids)].sort());
        for (const k of kept) expect(includeHealth).toContain(endpoints.find((e) => e.id === k.id)?.health);
      }),
      { numRuns: 200 },
    );
  });
});
