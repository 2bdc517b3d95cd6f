import { ANNOTATIONS, canonicalJson, specHash } from '@registry-bridge/translation';
import fc from 'fast-check';
import { emptiedServiceEntry, REFUSED_ANNOTATION } from './emptied-service-entry';

describe('emptiedServiceEntry', () => {
  const live = (spec: Record<string, unknown>) => ({
    namespace: 'mesh',
    name: 'consul-dc1-web-1a2b3c4d',
    uid: 'u-1',
    specJson: canonicalJson(spec),
    labels: { 'app.kubernetes.io/managed-by': 'registry-bridge', 'registry-bridge.io/installation': 'it' },
    annotations: { [ANNOTATIONS.serviceKey]: 'consul-dc1//web', [ANNOTATIONS.specHash]: 'old', 'kubectl.kubernetes.io/last-applied-configuration': '{}' },
  });

  it('drops the endpoints, resolves STATIC, keeps hosts, ports and selector, and says why', () => {
    const spec = { hosts: ['web.service.consul'], ports: [{ number: 80, name: 'http', protocol: 'HTTP' }], resolution: 'DNS', endpoints: [{ address: 'a.example' }], workloadSelector: { labels: { x: 'y' } } };
    const out = emptiedServiceEntry(live(spec), 'host-not-allowed: host "web.service.consul" is outside');
    expect(out.spec).toEqual({ hosts: ['web.service.consul'], ports: spec.ports, resolution: 'STATIC', workloadSelector: { labels: { x: 'y' } } });
    expect(out.metadata.annotations[REFUSED_ANNOTATION]).toBe('host-not-allowed: host "web.service.consul" is outside');
    expect(out.metadata.annotations['kubectl.kubernetes.io/last-applied-configuration']).toBeUndefined();
    expect(out.metadata.annotations[ANNOTATIONS.serviceKey]).toBe('consul-dc1//web');
  });

  it('carries a hash of exactly its own content, so the watch does not take it for a hand edit', () => {
    fc.assert(
      fc.property(fc.array(fc.ipV4(), { maxLength: 5 }), fc.constantFrom('STATIC', 'DNS'), fc.string({ maxLength: 40 }), (addresses, resolution, reason) => {
        const out = emptiedServiceEntry(live({ hosts: ['h.consul'], ports: [{ number: 1, name: 'tcp', protocol: 'TCP' }], resolution, endpoints: addresses.map((address) => ({ address })) }), reason);
        expect(out.metadata.annotations[ANNOTATIONS.specHash]).toBe(specHash(out));
        expect(out.spec['endpoints']).toBeUndefined();
        // Emptying is idempotent: emptying the emptied object gives the same object.
        const again = emptiedServiceEntry({ ...live({}), specJson: canonicalJson(out.spec), annotations: out.metadata.annotations }, reason);
        expect(again).toEqual(out);
      }),
    );
  });
});
