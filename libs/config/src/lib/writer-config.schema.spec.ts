import { loadConfig } from '@registry-bridge/app-config';
import { sourceRules } from '@registry-bridge/translation';
import { writerConfigSchema } from './writer-config.schema';
import { configError, configFile } from './config-file.testing';

function load(yaml: string, env: Record<string, string> = {}) {
  return loadConfig(writerConfigSchema, { RB_CONFIG_FILE: configFile(yaml), ...env });
}
const minimal = 'redis: { url: "redis://127.0.0.1:6379" }\nsources: { consul-dc1: { kind: consul } }\n';

describe('writer config', () => {
  it('fills every default from a minimal file', () => {
    const cfg = load(minimal);
    expect(cfg.installation).toBe('default');
    expect(cfg.deletion).toMatchObject({ gracePeriodSeconds: 60, maxDeletes: 20, maxDeletePercent: 10 });
    expect(cfg.leaderElection).toMatchObject({ enabled: true, leaseDurationSeconds: 10, renewDeadlineSeconds: 7 });
    expect(cfg.kubernetes.fieldManager).toBe('registry-bridge');
  });

  it('resolves per-source rules over the defaults', () => {
    const cfg = load(`${minimal.replace('consul-dc1: { kind: consul }', 'consul-dc1: { kind: consul, endpointMode: workloadEntry, namespace: mesh-ext }, cm: { kind: cloudmap }')}defaults: { labels: { team: edge } }\n`);
    const rules = sourceRules(cfg);
    expect(rules.get('consul-dc1')).toMatchObject({ endpointMode: 'workloadEntry', namespace: 'mesh-ext', hostTemplate: '{service}.service.consul', labels: { team: 'edge' } });
    expect(rules.get('cm')).toMatchObject({ endpointMode: 'inline', namespace: 'istio-system', hostTemplate: '{service}.{scope}' });
  });

  it.each<[string, string]>([
    ['"*"', '["*"]'],
    ['"."', '["."]'],
    ['"~"', '["~"]'],
    ['namespaces', '[team-a, team-b, "."]'],
  ])('accepts exportTo %s as Istio does', (_n, list) => {
    expect(load(`${minimal}defaults: { exportTo: ${list} }\n`).defaults.exportTo.length).toBeGreaterThan(0);
  });

  it('accepts workloadEntry mode in a namespace of its own', () => {
    const cfg = load('redis: { url: "redis://x:1" }\nsources: { e: { kind: eureka, endpointMode: workloadEntry, namespace: mesh-vms } }\n');
    expect(sourceRules(cfg).get('e')).toMatchObject({ endpointMode: 'workloadEntry', namespace: 'mesh-vms' });
  });

  it('allows each registry its own suffix by default, never .local for Consul or Eureka, and denies the cluster domain', () => {
    const cfg = load('redis: { url: "redis://x:1" }\nkubernetes: { clusterDomain: corp.internal }\nsources: { c: { kind: consul }, e: { kind: eureka }, m: { kind: cloudmap } }\n');
    const rules = sourceRules(cfg);
    expect(rules.get('c')?.allowedHostSuffixes).toEqual(['.consul']);
    expect(rules.get('e')?.allowedHostSuffixes).toEqual(['.eureka']);
    expect(rules.get('m')?.allowedHostSuffixes).toEqual(['.local']);
    for (const r of rules.values()) expect(r.deniedHostSuffixes).toEqual(['cluster.local', 'corp.internal']);
    expect(rules.get('c')?.sidecars).toBe(false);
  });

  it.each<[string, string, Record<string, string>, RegExp]>([
    ['a typo key', `${minimal}reconcile: { concurency: 3 }\n`, {}, /reconcile.*concurency/],
    ['a bad value from env', minimal, { RB__reconcile__concurrency: 'lots' }, /reconcile\.concurrency.*RB__reconcile__concurrency/],
    ['an unknown registry kind', 'redis: { url: "redis://x:1" }\nsources: { z: { kind: zookeeper } }\n', {}, /sources\.z\.kind/],
    ['an upper-case source name', 'redis: { url: "redis://x:1" }\nsources: { Consul: { kind: consul } }\n', {}, /sources/],
    ['no sources', 'redis: { url: "redis://x:1" }\nsources: {}\n', {}, /at least one source/],
    ['a bad namespace', `${minimal}defaults: { namespace: "Bad_NS" }\n`, {}, /defaults\.namespace/],
    ['an unknown protocol', `${minimal}defaults: { defaultProtocol: SPDY }\n`, {}, /defaults\.defaultProtocol/],
    ['a dashboard without password', `${minimal}dashboard: { enabled: true }\n`, {}, /dashboard\.password/],
    ['an exportTo namespace Istio rejects', `${minimal}defaults: { exportTo: ["Team_A"] }\n`, {}, /defaults\.exportTo\.0: .*namespace name/],
    ['"*" with other exportTo values', `${minimal}defaults: { exportTo: ["*", "team-a"] }\n`, {}, /defaults\.exportTo: .*"\*"/],
    ['"~" with other exportTo values', `${minimal}defaults: { exportTo: ["~", "team-a"] }\n`, {}, /defaults\.exportTo: .*"~"/],
    ['a duplicate exportTo value', `${minimal}defaults: { exportTo: ["team-a", "team-a"] }\n`, {}, /defaults\.exportTo\.1: .*duplicate/],
    ['a bad exportTo of a source', 'redis: { url: "redis://x:1" }\nsources: { c: { kind: consul, exportTo: ["a/b"] } }\n', {}, /sources\.c\.exportTo\.0/],
    ['an unknown host template variable', 'redis: { url: "redis://x:1" }\nsources: { c: { kind: consul, hostTemplate: "{service}.{dc}.consul" } }\n', {}, /sources\.c\.hostTemplate: unknown variable.*\{datacenter\}/],
    ['a label key Kubernetes rejects', `${minimal}defaults: { labels: { "bad key": x } }\n`, {}, /defaults\.labels\.bad key: .*label key/],
    ['a label value Kubernetes rejects', 'redis: { url: "redis://x:1" }\nsources: { c: { kind: consul, labels: { team: "a b" } } }\n', {}, /sources\.c\.labels\.team: .*label value/],
    ['an inherited property as a template variable', 'redis: { url: "redis://x:1" }\nsources: { c: { kind: consul, hostTemplate: "{constructor}.consul" } }\n', {}, /sources\.c\.hostTemplate: unknown variable/],
    ['a bad cluster domain', `${minimal}kubernetes: { clusterDomain: "-bad-" }\n`, {}, /kubernetes\.clusterDomain/],
    ['a workloadEntry source in istio-system, by default', 'redis: { url: "redis://x:1" }\nsources: { e: { kind: eureka, endpointMode: workloadEntry } }\n', {}, /sources\.e\.namespace: .*istio-system.*namespace of its own/],
    ['workloadEntry mode by default with namespace istio-system', 'redis: { url: "redis://x:1" }\ndefaults: { endpointMode: workloadEntry }\nsources: { c: { kind: consul, namespace: istio-system } }\n', {}, /sources\.c\.namespace: .*istio-system/],
  ])('rejects %s naming the key', (_n, yaml, env, message) => {
    const error = configError(() => load(yaml, env));
    expect(error.message).toMatch(message);
  });
});
