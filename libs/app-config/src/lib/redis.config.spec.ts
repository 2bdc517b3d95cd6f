import { Cluster, Redis } from 'ioredis';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { ConfigError, loadConfig } from './load-config';
import { createRedisConnection, redisConfigSchema } from './redis.config';

const dir = mkdtempSync(join(tmpdir(), 'rb-redis-'));
const schema = z.object({ redis: redisConfigSchema });
const load = (env: Record<string, string>) => loadConfig(schema, env).redis;

describe('redisConfigSchema', () => {
  it('fills defaults for standalone', () => {
    expect(load({ RB__redis__url: 'redis://127.0.0.1:6379' })).toEqual({
      mode: 'standalone',
      url: 'redis://127.0.0.1:6379',
      prefix: '{rb}',
      connectTimeoutSeconds: 10,
      tls: { enabled: false, insecureSkipVerify: false },
    });
  });

  it.each<[string, Record<string, string>, RegExp]>([
    ['standalone without url', { RB__redis__mode: 'standalone' }, /redis\.url: required when mode is standalone/],
    ['sentinel without name', { RB__redis__mode: 'sentinel', RB__redis__sentinels: '[{"host":"s","port":26379}]' }, /redis\.name: required/],
    ['cluster without hash tag', { RB__redis__mode: 'cluster', RB__redis__nodes: '[{"host":"n","port":6379}]', RB__redis__prefix: 'rb' }, /redis\.prefix: must contain a \{hash tag\}/],
    ['a password in the url', { RB__redis__url: 'redis://:hunter2@h:6379' }, /redis\.url: must not carry a password/],
    ['a literal password', { RB__redis__url: 'redis://h', RB__redis__password: 'hunter2' }, /redis\.password: expected a secret/],
    ['a typo', { RB__redis__url: 'redis://h', RB__redis__tls__enable: 'true' }, /redis\.tls\.enable: unknown key/],
    ['a certificate without its key', { RB__redis__url: 'redis://h', RB__redis__tls__certFile: '/c.pem' }, /redis\.tls: certFile and keyFile go together/],
    ['insecureSkipVerify that is no boolean', { RB__redis__url: 'redis://h', RB__redis__tls__insecureSkipVerify: 'yes' }, /redis\.tls\.insecureSkipVerify: expected boolean/],
  ])('rejects %s', (_name, env, message) => {
    let error: unknown;
    try {
      load(env);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).not.toContain('hunter2');
  });
});

describe('createRedisConnection', () => {
  const close = (c: Redis | Cluster) => c.disconnect();

  it('standalone: BullMQ worker options, password from file, TLS from files', () => {
    const pw = join(dir, 'pw');
    const ca = join(dir, 'ca.pem');
    writeFileSync(pw, 'hunter2\n');
    writeFileSync(ca, 'CA PEM');
    const cfg = load({ RB__redis__url: 'rediss://redis.example:6380/2', RB__redis__password__file: pw, RB__redis__tls__caFile: ca, RB__redis__tls__serverName: 'redis.internal', RB__redis__connectTimeoutSeconds: '2.5' });
    const conn = createRedisConnection(cfg, { forWorker: true, lazyConnect: true }) as Redis;
    expect(conn).toBeInstanceOf(Redis);
    expect(conn.options).toMatchObject({
      host: 'redis.example',
      port: 6380,
      db: 2,
      password: 'hunter2',
      maxRetriesPerRequest: null,
      enableReadyCheck: true,
      tls: { servername: 'redis.internal', rejectUnauthorized: true },
      connectTimeout: 2500,
    });
    expect(String(conn.options.tls?.ca)).toBe('CA PEM');
    close(conn);
  });

  it('standalone without forWorker fails commands after a few retries', () => {
    const conn = createRedisConnection(load({ RB__redis__url: 'redis://h' }), { lazyConnect: true }) as Redis;
    expect(conn.options.maxRetriesPerRequest).toBe(3);
    expect(conn.options.tls).toBeUndefined();
    close(conn);
  });

  it('sentinel', () => {
    const cfg = load({ RB__redis__mode: 'sentinel', RB__redis__name: 'mymaster', RB__redis__sentinels: '[{"host":"s1","port":26379}]', RB__redis__tls__enabled: 'true' });
    const conn = createRedisConnection(cfg, { lazyConnect: true }) as Redis;
    expect(conn.options).toMatchObject({ name: 'mymaster', sentinels: [{ host: 's1', port: 26379 }], enableTLSForSentinelMode: true });
    close(conn);
  });

  it('cluster', () => {
    const cfg = load({ RB__redis__mode: 'cluster', RB__redis__nodes: '[{"host":"n1","port":7000}]', RB__redis__username: 'rb' });
    const conn = createRedisConnection(cfg, { forWorker: true, lazyConnect: true }) as Cluster;
    expect(conn).toBeInstanceOf(Cluster);
    expect(conn.options.redisOptions).toMatchObject({ username: 'rb', maxRetriesPerRequest: null });
    close(conn);
  });

  it('insecureSkipVerify turns verification off', () => {
    const conn = createRedisConnection(load({ RB__redis__url: 'rediss://h', RB__redis__tls__insecureSkipVerify: 'true' }), { lazyConnect: true }) as Redis;
    expect(conn.options.tls).toMatchObject({ rejectUnauthorized: false });
    close(conn);
  });

  it('names an unreadable TLS file', () => {
    const cfg = load({ RB__redis__url: 'redis://h', RB__redis__tls__enabled: 'true', RB__redis__tls__caFile: join(dir, 'nope.pem') });
    expect(() => createRedisConnection(cfg, { lazyConnect: true })).toThrow(/redis\.tls\.caFile: cannot read .*nope\.pem: ENOENT/);
  });
});
