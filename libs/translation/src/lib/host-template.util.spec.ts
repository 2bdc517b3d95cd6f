import fc from 'fast-check';
import { ServiceRecord } from '@registry-bridge/contract';
import { renderHost } from './host-template.util';
import { isDns1123Label } from './names';
import { SourceRules } from './source-rules';
import { testRules as rules } from './source-rules.testing';
import { testRecord as record } from './service-record.testing';

function host(r: ReturnType<typeof renderHost>): string {
  if (!r.ok) throw new Error(`expected a host, got ${r.reason}: ${r.detail}`);
  return r.host;
}

describe('renderHost', () => {
  it.each<[string, Partial<ServiceRecord>, Partial<SourceRules>, string]>([
    ['consul default', {}, {}, 'web.service.consul'],
    ['consul with datacenter', { metadata: { 'consul.datacenter': 'dc1' } }, { hostTemplate: '{service}.service.{datacenter}.consul' }, 'web.service.dc1.consul'],
    ['eureka lower-cased, underscore to dash', { source: { name: 'eureka-a', kind: 'eureka' }, service: 'ORDER_SERVICE' }, { source: 'eureka-a', kind: 'eureka', hostTemplate: '{service}.eureka', allowedHostSuffixes: ['eureka'] }, 'order-service.eureka'],
    ['cloud map service.namespace', { source: { name: 'cm', kind: 'cloudmap' }, service: 'api', scope: 'prod.local' }, { source: 'cm', kind: 'cloudmap', hostTemplate: '{service}.{scope}', allowedHostSuffixes: ['.local'] }, 'api.prod.local'],
  ])('%s', (_n, rec, rl, expected) => {
    expect(host(renderHost(record(rec), rules(rl)))).toBe(expected);
  });

  it.each<[string, Partial<ServiceRecord>, Partial<SourceRules>, string]>([
    ['a host outside the allow-list', {}, { allowedHostSuffixes: ['.internal'] }, 'host-not-allowed'],
    ['an allow-list suffix matched only as a whole label', {}, { allowedHostSuffixes: ['sul'] }, 'host-not-allowed'],
    ['an empty allow-list', {}, { allowedHostSuffixes: [] }, 'host-not-allowed'],
    ['a template that claims a foreign host', { service: 'x' }, { hostTemplate: 'api.bank.example', allowedHostSuffixes: ['.consul'] }, 'host-not-allowed'],
    ['a wildcard host', { service: 'x' }, { hostTemplate: '*.service.consul' }, 'host-wildcard'],
    ['a name of only symbols', { service: '%%%' }, {}, 'host-invalid'],
    ['a label over 63 characters', { service: 'a'.repeat(64) }, {}, 'host-invalid'],
  ])('refuses %s', (_n, rec, rl, reason) => {
    const r = renderHost(record(rec), rules(rl));
    expect(r.ok).toBe(false);
    expect(!r.ok && r.reason).toBe(reason);
  });

  it('allows a wildcard host only when configured', () => {
    expect(host(renderHost(record({ service: 'x' }), rules({ hostTemplate: '*.{service}.consul', allowWildcardHosts: true })))).toBe('*.x.consul');
  });

  it('keeps dots of a service name as host labels and drops slashes and unicode', () => {
    expect(host(renderHost(record({ service: 'api.v2' }), rules()))).toBe('api.v2.service.consul');
    expect(host(renderHost(record({ service: 'a/b' }), rules()))).toBe('a-b.service.consul');
    expect(host(renderHost(record({ service: 'café' }), rules()))).toBe('cafe.service.consul');
  });

  it('renders {datacenter} from the Consul normalizer metadata key consul.datacenter', () => {
    expect(host(renderHost(record({ metadata: { 'consul.datacenter': 'dc1' } }), rules({ hostTemplate: '{service}.service.{datacenter}.consul' })))).toBe('web.service.dc1.consul');
  });

  it('refuses a template whose variable is empty for the record, naming the variable', () => {
    const r = renderHost(record({ metadata: {} }), rules({ hostTemplate: '{service}.service.{datacenter}.consul' }));
    expect(r.ok).toBe(false);
    expect(!r.ok && r.reason).toBe('host-invalid');
    expect(!r.ok && r.detail).toMatch(/\{datacenter\}/);
  });

  it.each<[string, Partial<SourceRules>]>([
    ['a Kubernetes service name', { hostTemplate: '{service}.default.svc.cluster.local', allowedHostSuffixes: ['.local'] }],
    ['the cluster domain itself', { hostTemplate: 'cluster.local', allowedHostSuffixes: ['.local'] }],
    ['a name under a configured cluster domain', { hostTemplate: '{service}.svc.corp.internal', allowedHostSuffixes: ['.internal'], deniedHostSuffixes: ['corp.internal'] }],
  ])('refuses %s even when the allow-list admits it', (_n, rl) => {
    const r = renderHost(record(), rules(rl));
    expect(r.ok).toBe(false);
    expect(!r.ok && r.reason).toBe('host-not-allowed');
    expect(!r.ok && r.detail).toMatch(/cluster domain/);
  });

  // Hostile registry names: dots, slashes, unicode, wildcards, template syntax, 300 characters.
  const arbName = fc.oneof(
    fc.string({ minLength: 1, maxLength: 300, unit: 'grapheme' }),
    fc.constantFrom('*', '*.evil.com', 'a.b.c', 'team/api', 'api.bank.example.com', '{service}', 'сервис-ü', 'x'.repeat(300), 'web.service.consul', '..', 'a..b'),
  );

  it('never claims a host outside the allow-list, a wildcard, or an invalid name, whatever the service is called', () => {
    fc.assert(
      fc.property(arbName, fc.constantFrom('{service}.service.consul', '{service}', '{service}.mesh.internal'), (service, hostTemplate) => {
        const r = renderHost(record({ service }), rules({ hostTemplate, allowedHostSuffixes: ['.consul', '.mesh.internal'] }));
        if (!r.ok) {
          expect(['host-invalid', 'host-not-allowed', 'host-wildcard']).toContain(r.reason);
          return;
        }
        expect(r.host.endsWith('.consul') || r.host.endsWith('.mesh.internal')).toBe(true);
        expect(r.host).not.toContain('*');
        expect(r.host.length).toBeLessThanOrEqual(253);
        expect(r.host.split('.').every(isDns1123Label)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });
});
