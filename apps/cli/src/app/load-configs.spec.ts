import { ConfigError } from '@registry-bridge/app-config';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadCollectorSources, loadWriterConfig } from './load-configs';

const dir = mkdtempSync(join(tmpdir(), 'rb-cli-config-'));
const file = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};

describe('loadWriterConfig', () => {
  it('accepts a writer config whose Redis password file exists only in the writer pod', () => {
    const cfg = loadWriterConfig(
      file('w.yaml', 'installation: prod\nredis: { url: redis://r:6379, password: { file: /var/run/secrets/redis/password } }\nsources: { consul-dc1: { kind: consul } }\n'),
      {},
    );
    expect(cfg.installation).toBe('prod');
    expect(cfg.defaults.namespace).toBe('istio-system');
  });

  it('names a bad key and its file, and ignores RB__ overrides of the shell', () => {
    const p = file('bad.yaml', 'sources: { consul-dc1: { kind: consul, hostTemplat: x } }\n');
    expect(() => loadWriterConfig(p, { RB__installation: 'x' })).toThrow(ConfigError);
    expect(() => loadWriterConfig(p, {})).toThrow(/sources\.consul-dc1\.hostTemplat: unknown key \(from file .*bad\.yaml\)/);
    const ok = file('ok.yaml', 'sources: { consul-dc1: { kind: consul } }\n');
    expect(loadWriterConfig(ok, { RB__installation: 'other' }).installation).toBe('default');
  });

  it('refuses what the writer refuses at load: a workloadEntry source in istio-system', () => {
    const p = file('we.yaml', 'sources: { eureka-a: { kind: eureka, endpointMode: workloadEntry } }\n');
    expect(() => loadWriterConfig(p, {})).toThrow(/sources\.eureka-a\.namespace: .*istio-system/);
  });
});

describe('loadCollectorSources', () => {
  it.each([
    ['consul', 'sources: [{ name: consul-dc1, address: "http://127.0.0.1:8500" }]\nredis: { url: "redis://x:1" }\n', 'consul-dc1'],
    ['eureka', 'sources: [{ name: eureka-a, serviceUrls: ["http://127.0.0.1:8761/eureka"] }]\n', 'eureka-a'],
    ['cloudmap', 'sources: [{ name: cloudmap-a, region: us-east-1 }]\n', 'cloudmap-a'],
  ] as const)('reads the sources of a %s collector config', (kind, text, name) => {
    const sources = loadCollectorSources(kind, file(`${kind}.yaml`, text), {});
    expect(sources.map((s) => [s.kind, s.config.name])).toEqual([[kind, name]]);
  });

  it('fails on a source the collector itself would refuse', () => {
    expect(() => loadCollectorSources('consul', file('c-bad.yaml', 'sources: [{ name: Bad_Name, address: "ftp://x" }]\n'), {})).toThrow(ConfigError);
  });
});
