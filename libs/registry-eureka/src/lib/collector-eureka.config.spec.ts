import { ConfigError, loadConfig } from '@registry-bridge/app-config';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { collectorEurekaConfigSchema } from './collector-eureka.config';

const dir = mkdtempSync(join(tmpdir(), 'collector-eureka-config-'));
const file = (yaml: string) => {
  const path = join(dir, `c${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(path, yaml);
  return path;
};

const valid = `
redis: { url: redis://127.0.0.1:6379 }
eureka:
  sources:
    - name: eureka-a
      serviceUrls: [http://eureka-1:8761/eureka, http://eureka-2:8761/eureka]
    - name: eureka-b
      serviceUrls: [https://eureka-b.example.com/eureka/v2]
      username: reader
      password: { env: EUREKA_B_PASSWORD }
      tls: { caFile: /etc/ca.pem }
      apps: { exclude: ['*-canary'] }
`;

describe('collector-eureka config', () => {
  it('loads a file with two clusters, secrets from env, and defaults', () => {
    const cfg = loadConfig(collectorEurekaConfigSchema, { RB_CONFIG_FILE: file(valid), EUREKA_B_PASSWORD: 'pw' });
    expect(cfg.eureka.sources.map((s) => s.name)).toEqual(['eureka-a', 'eureka-b']);
    expect(cfg.eureka.sources[1].password).toBe('pw');
    expect(cfg.eureka.leaseCheckSeconds).toBe(1);
    expect(cfg.http.port).toBe(8080);
  });

  it('takes RB__ env overrides', () => {
    const cfg = loadConfig(collectorEurekaConfigSchema, { RB_CONFIG_FILE: file(valid), EUREKA_B_PASSWORD: 'pw', RB__eureka__leaseCheckSeconds: '2', RB__http__port: '9000' });
    expect(cfg.eureka.leaseCheckSeconds).toBe(2);
    expect(cfg.http.port).toBe(9000);
  });

  it.each<[string, string, Record<string, string>, RegExp]>([
    ['a missing password env var', valid, {}, /eureka\.sources\.1\.password.*EUREKA_B_PASSWORD is not set/],
    ['no sources', 'redis: { url: redis://x:1 }\neureka: { sources: [] }', {}, /eureka\.sources/],
    ['a bad URL', 'redis: { url: redis://x:1 }\neureka: { sources: [{ name: a, serviceUrls: [nope] }] }', {}, /eureka\.sources\.0\.serviceUrls\.0/],
    ['an unknown key', valid.replace('eureka:\n', 'eureka:\n  pollEvery: 3\n'), { EUREKA_B_PASSWORD: 'pw' }, /eureka/],
  ])('refuses %s with a message naming the key', (_name, yaml, env, message) => {
    let err: unknown;
    try {
      loadConfig(collectorEurekaConfigSchema, { RB_CONFIG_FILE: file(yaml), ...env });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toMatch(message);
  });
});
