import { loadConfig } from '@registry-bridge/app-config';
import { collectorEurekaConfigSchema } from './collector-eureka.config';
import { toSyncOptions } from '@registry-bridge/registry-eureka';
import { configError, configFile } from './config-file.testing';

const file = configFile;

const valid = `
redis: { url: redis://127.0.0.1:6379 }
sources:
  - name: eureka-a
    serviceUrls: [http://eureka-1:8761/eureka, http://eureka-2:8761/eureka]
  - name: eureka-b
    serviceUrls: [https://eureka-b.example.com/eureka/v2]
    username: reader
    password: { env: EUREKA_B_PASSWORD }
    tls: { caFile: /etc/ca.pem }
    apps: { deny: ['*-canary'] }
`;

describe('collector-eureka config', () => {
  it('loads a file with two clusters, secrets from env, and defaults', () => {
    const cfg = loadConfig(collectorEurekaConfigSchema, { RB_CONFIG_FILE: file(valid), EUREKA_B_PASSWORD: 'pw' });
    expect(cfg.sources.map((s) => s.name)).toEqual(['eureka-a', 'eureka-b']);
    expect(cfg.sources[1].password).toBe('pw');
    expect(cfg.sources[1].apps).toEqual({ allow: [], deny: ['*-canary'] });
    expect(cfg.leaseCheckSeconds).toBe(1);
    expect(cfg.readinessGraceSeconds).toBeUndefined();
    expect(cfg.http.port).toBe(8080);
  });

  it('hands the syncer allow/deny as its app filter', () => {
    const cfg = loadConfig(collectorEurekaConfigSchema, { RB_CONFIG_FILE: file(valid), EUREKA_B_PASSWORD: 'pw' });
    expect(toSyncOptions(cfg.sources[1]).apps).toEqual({ include: [], exclude: ['*-canary'] });
  });

  it('takes RB__ env overrides', () => {
    const cfg = loadConfig(collectorEurekaConfigSchema, {
      RB_CONFIG_FILE: file(valid),
      EUREKA_B_PASSWORD: 'pw',
      RB__leaseCheckSeconds: '2',
      RB__readinessGraceSeconds: '45',
      RB__http__port: '9000',
    });
    expect(cfg.leaseCheckSeconds).toBe(2);
    expect(cfg.readinessGraceSeconds).toBe(45);
    expect(cfg.http.port).toBe(9000);
  });

  it.each<[string, string, Record<string, string>, RegExp]>([
    ['a missing password env var', valid, {}, /sources\.1\.password.*EUREKA_B_PASSWORD is not set/],
    ['no sources', 'redis: { url: redis://x:1 }\nsources: []', {}, /sources/],
    ['a bad URL', 'redis: { url: redis://x:1 }\nsources: [{ name: a, serviceUrls: [nope] }]', {}, /sources\.0\.serviceUrls\.0/],
    ['an unknown key', valid.replace('sources:\n', 'pollEvery: 3\nsources:\n'), { EUREKA_B_PASSWORD: 'pw' }, /pollEvery: unknown key/],
    ['sources under the old eureka block', 'redis: { url: redis://x:1 }\neureka: { sources: [] }', {}, /eureka\.sources: renamed to sources/],
    ['the old readiness count', valid + 'eureka: { readyPolls: 3 }\n', { EUREKA_B_PASSWORD: 'pw' }, /eureka\.readyPolls: renamed to readinessGraceSeconds/],
    ['the old app filter', valid.replace("apps: { deny: ['*-canary'] }", "apps: { exclude: ['*-canary'] }"), { EUREKA_B_PASSWORD: 'pw' }, /sources\.1\.apps\.exclude: renamed to sources\.1\.apps\.deny/],
  ])('refuses %s with a message naming the key', (_name, yaml, env, message) => {
    const error = configError(() => loadConfig(collectorEurekaConfigSchema, { RB_CONFIG_FILE: file(yaml), ...env }));
    expect(error.message).toMatch(message);
  });
});
