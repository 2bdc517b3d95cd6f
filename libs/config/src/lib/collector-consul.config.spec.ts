import { loadConfig } from '@registry-bridge/app-config';
import { collectorConsulConfigSchema } from './collector-consul.config';
import { toWatchOptions } from '@registry-bridge/registry-consul';
import { configError, configFile } from './config-file.testing';

const file = (_name: string, text: string) => configFile(text);

const example = `
redis: { url: redis://127.0.0.1:6379 }
sources:
  - name: consul-dc1
    address: https://consul.dc1.example:8501
    datacenter: dc1
    token: { env: CONSUL_TOKEN }
    tls: { caFile: /etc/consul/ca.pem, serverName: consul.dc1.example }
    filters: { deny: ["legacy-*"], requiredTags: [mesh], healthExpression: 'Service.Meta.env == "prod"' }
    normalize: { defaultProtocol: HTTP, zoneMetaKey: zone }
    watch: { maxBlockingWatches: 64 }
  - name: consul-dc2
    address: http://consul.dc2.example:8500
`;

describe('collector-consul config', () => {
  it('accepts the documented example and fills defaults', () => {
    const cfg = loadConfig(collectorConsulConfigSchema, { RB_CONFIG_FILE: file('ok.yaml', example), CONSUL_TOKEN: 's3cret' });
    expect(cfg.sources[0]).toMatchObject({ token: 's3cret', tls: { insecureSkipVerify: false }, watch: { maxBlockingWatches: 64, waitSeconds: 60 } });
    expect(cfg.sources[1].filters).toMatchObject({ includeConnect: false, includeConsul: false, allow: [] });
    expect(cfg.http.port).toBe(8080);
  });

  it('hands the watch engine the same milliseconds as before the rename (defaults)', () => {
    const cfg = loadConfig(collectorConsulConfigSchema, { RB_CONFIG_FILE: file('ok3.yaml', example), CONSUL_TOKEN: 'x' });
    expect(toWatchOptions(cfg.sources[1]).watch).toEqual({
      waitMs: 60000,
      maxBlockingWatches: 128,
      pollRatePerSecond: 20,
      pollConcurrency: 4,
      minLoopIntervalMs: 200,
      backoffBaseMs: 250,
      backoffMaxMs: 30000,
      requestTimeoutMs: 10000,
      recoveryTimeoutMs: 3000,
      recoveryProbeMaxMs: 2000,
      consistency: 'stale',
      snapshotIntervalMs: 60000,
    });
  });

  it('converts fractional seconds to whole milliseconds', () => {
    const cfg = loadConfig(collectorConsulConfigSchema, { RB_CONFIG_FILE: file('ok4.yaml', example), CONSUL_TOKEN: 'x', RB__sources__1__watch__minLoopIntervalSeconds: '0.05' });
    expect(toWatchOptions(cfg.sources[1]).watch.minLoopIntervalMs).toBe(50);
  });

  it('takes env overrides', () => {
    const cfg = loadConfig(collectorConsulConfigSchema, {
      RB_CONFIG_FILE: file('ok2.yaml', example),
      CONSUL_TOKEN: 'x',
      RB__readinessGraceSeconds: '5',
    });
    expect(cfg.readinessGraceSeconds).toBe(5);
  });

  it.each<[string, string, RegExp]>([
    ['an inline token', example.replace('{ env: CONSUL_TOKEN }', 'plain-token'), /sources\.0\.token/],
    ['a missing token variable', example, /sources\.0\.token: secret env var CONSUL_TOKEN is not set/],
    ['a non-http address', example.replace('http://consul.dc2', 'ftp://consul.dc2'), /sources\.1\.address/],
    ['duplicate source names', example.replace('consul-dc2', 'consul-dc1'), /sources: source names must be unique/],
    ['an unknown key', example.replace('datacenter: dc1', 'datacentre: dc1'), /sources\.0.*datacentre/],
    ['an old millisecond key', example.replace('maxBlockingWatches: 64', 'waitMs: 5000'), /sources\.0\.watch\.waitMs: renamed to sources\.0\.watch\.waitSeconds \(seconds\)/],
    ['a wait below its limit (1 s)', example.replace('maxBlockingWatches: 64', 'waitSeconds: 0.5'), /sources\.0\.watch\.waitSeconds/],
    ['a cert without key', example.replace('serverName: consul.dc1.example', 'certFile: /c.pem'), /sources\.0\.tls: certFile and keyFile go together/],
  ])('names the key for %s, never the secret', (_name, text, message) => {
    const env: NodeJS.ProcessEnv = { RB_CONFIG_FILE: file('bad.yaml', text) };
    if (!/is not set/.test(String(message))) env['CONSUL_TOKEN'] = 's3cret';
    const error = configError(() => loadConfig(collectorConsulConfigSchema, env));
    expect(error.message).toMatch(message);
    expect(error.message).not.toMatch(/s3cret|plain-token/);
  });
});
