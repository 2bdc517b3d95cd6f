import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { CONFIG_RENAMES, findRenamedKeys } from './config-renames';
import { ConfigError, loadConfig } from './load-config';

const dir = mkdtempSync(join(tmpdir(), 'rb-renames-'));

describe('findRenamedKeys', () => {
  it.each<[string, unknown, Array<{ path: string; message: string }>]>([
    ['a Consul watch duration', { sources: [{ watch: { waitMs: 1000 } }] }, [{ path: 'sources.0.watch.waitMs', message: 'renamed to sources.0.watch.waitSeconds (seconds)' }]],
    ['one per source', { sources: [{}, { watch: { snapshotIntervalMs: 1 } }] }, [{ path: 'sources.1.watch.snapshotIntervalMs', message: 'renamed to sources.1.watch.snapshotIntervalSeconds (seconds)' }]],
    ['a Cloud Map throttle delay', { sources: [{ throttle: { maxDelayMs: 5 } }] }, [{ path: 'sources.0.throttle.maxDelayMs', message: 'renamed to sources.0.throttle.maxDelaySeconds (seconds)' }]],
    ['a Cloud Map request timeout', { sources: [{ requestTimeoutMs: 5 }] }, [{ path: 'sources.0.requestTimeoutMs', message: 'renamed to sources.0.requestTimeoutSeconds (seconds)' }]],
    ['the Redis connect timeout', { redis: { connectTimeoutMs: 5 } }, [{ path: 'redis.connectTimeoutMs', message: 'renamed to redis.connectTimeoutSeconds (seconds)' }]],
    ['the Redis TLS name', { redis: { tls: { servername: 'r' } } }, [{ path: 'redis.tls.servername', message: 'renamed to redis.tls.serverName' }]],
    ['the inverted Redis TLS check', { redis: { tls: { rejectUnauthorized: true } } }, [{ path: 'redis.tls.rejectUnauthorized', message: 'renamed to redis.tls.insecureSkipVerify (the opposite value)' }]],
    ['Eureka sources moved to the top', { eureka: { sources: [] } }, [{ path: 'eureka.sources', message: 'renamed to sources' }]],
    ['Eureka readiness', { eureka: { readyPolls: 3 } }, [{ path: 'eureka.readyPolls', message: 'renamed to readinessGraceSeconds (seconds, default 3 poll intervals)' }]],
    ['Eureka lease cadence', { eureka: { leaseCheckSeconds: 1 } }, [{ path: 'eureka.leaseCheckSeconds', message: 'renamed to leaseCheckSeconds' }]],
    ['Eureka app filters', { sources: [{ apps: { include: ['A'], exclude: ['B'] } }] }, [
      { path: 'sources.0.apps.include', message: 'renamed to sources.0.apps.allow' },
      { path: 'sources.0.apps.exclude', message: 'renamed to sources.0.apps.deny' },
    ]],
    ['nothing old', { sources: [{ watch: { waitSeconds: 1 } }], redis: { tls: { serverName: 'r' } } }, []],
    ['a key of the same name elsewhere', { waitMs: 1, watch: { waitMs: 1 } }, []],
  ])('%s', (_name, data, expected) => {
    expect(findRenamedKeys(data)).toEqual(expected);
  });

  it('every old key names a new key that differs from it', () => {
    for (const r of CONFIG_RENAMES) expect(r.to).not.toBe(r.from);
    expect(new Set(CONFIG_RENAMES.map((r) => r.from)).size).toBe(CONFIG_RENAMES.length);
  });
});

describe('loadConfig with an old key', () => {
  const schema = z.object({ sources: z.array(z.object({ watch: z.object({ waitSeconds: z.number() }) })) });

  it('fails naming the new key and where the old one came from', () => {
    const file = join(dir, 'old.yaml');
    writeFileSync(file, 'sources:\n  - watch: { waitMs: 1000 }\n');
    let error: unknown;
    try {
      loadConfig(schema, { RB_CONFIG_FILE: file });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toBe(`config: sources.0.watch.waitMs: renamed to sources.0.watch.waitSeconds (seconds) (from file ${file})`);
  });

  it('names the key that replaced an old environment variable', () => {
    expect(() => loadConfig(z.object({}), { RB_LOG_LEVEL: 'debug' })).toThrow('config: (root): replaced by log.level (RB__log__level) (from env RB_LOG_LEVEL)');
    expect(loadConfig(z.object({ log: z.object({ level: z.string() }) }), { RB__log__level: 'debug', LOG_LEVEL: 'warn' })).toEqual({ log: { level: 'debug' } });
  });

  it('names an env override too', () => {
    expect(() => loadConfig(z.object({ redis: z.object({}).optional() }), { RB__redis__connectTimeoutMs: '5' })).toThrow(
      'config: redis.connectTimeoutMs: renamed to redis.connectTimeoutSeconds (seconds) (from env RB__redis__connectTimeoutMs)',
    );
  });
});
