import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { httpConfigSchema } from './common.config';
import { ConfigError, loadConfig } from './load-config';
import { secret } from './secret.schema';

const dir = mkdtempSync(join(tmpdir(), 'rb-config-'));
const file = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

const schema = z.object({
  http: httpConfigSchema,
  reconcile: z.object({ concurrency: z.number().int().min(1).default(4), name: z.string().default('r') }).prefault({}),
  sources: z.array(z.object({ name: z.string(), labels: z.record(z.string(), z.string()).default({}) })).default([]),
  token: secret().optional(),
});

function errorOf(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('uses defaults when there is neither file nor env', () => {
    expect(loadConfig(schema, {})).toEqual({ http: { port: 8080, host: '0.0.0.0' }, reconcile: { concurrency: 4, name: 'r' }, sources: [] });
  });

  it('merges the file and env overrides, env winning, with JSON values and case-kept segments', () => {
    const f = file('merge.yaml', 'http:\n  port: 9000\nreconcile:\n  concurrency: 2\nsources:\n  - name: a\n    labels: { team: x }\n');
    const cfg = loadConfig(schema, {
      RB_CONFIG_FILE: f,
      RB__reconcile__concurrency: '8',
      RB__http__host: '127.0.0.1',
      RB__sources__0__labels__Tier: 'gold',
      RB__reconcile__name: '0123',
    });
    expect(cfg.http).toEqual({ port: 9000, host: '127.0.0.1' });
    expect(cfg.reconcile).toEqual({ concurrency: 8, name: '0123' });
    expect(cfg.sources).toEqual([{ name: 'a', labels: { team: 'x', Tier: 'gold' } }]);
  });

  it('accepts a whole subtree as JSON in one env var', () => {
    const cfg = loadConfig(schema, { RB__sources: '[{"name":"b"}]' });
    expect(cfg.sources).toEqual([{ name: 'b', labels: {} }]);
  });

  it('names the bad key and its source: env', () => {
    const err = errorOf(() => loadConfig(schema, { RB__reconcile__concurrency: 'many' }));
    expect(err.message).toBe('config: reconcile.concurrency: expected number, got string (from env RB__reconcile__concurrency)');
  });

  it('names the bad key and its source: file, and lists every problem', () => {
    const f = file('bad.yaml', 'http:\n  port: 0\nsources:\n  - labels: {}\n');
    const err = errorOf(() => loadConfig(schema, { RB_CONFIG_FILE: f }));
    expect(err.problems).toEqual([
      { path: 'http.port', message: expect.stringMatching(/>=1/), source: `file ${f}` },
      { path: 'sources.0.name', message: 'expected string, but it is not set', source: undefined },
    ]);
    expect(err.message.split('\n')).toHaveLength(2);
  });

  it('rejects unknown keys (typos) at any depth', () => {
    const f = file('typo.yaml', 'http:\n  prot: 9000\nreconcil: {}\n');
    const err = errorOf(() => loadConfig(schema, { RB_CONFIG_FILE: f, RB__sources__0__name: 'a', RB__sources__0__lables: '{}' }));
    expect(err.message).toContain(`config: http.prot: unknown key (from file ${f})`);
    expect(err.message).toContain(`config: reconcil: unknown key (from file ${f})`);
    expect(err.message).toContain('config: sources.0.lables: unknown key (from env RB__sources__0__lables)');
  });

  it('can be told to leave unknown keys alone', () => {
    expect(loadConfig(schema, { RB__extra: '1' }, { strict: false })).not.toHaveProperty('extra');
  });

  it('reports an unreadable file, bad YAML and a non-mapping file', () => {
    expect(errorOf(() => loadConfig(schema, { RB_CONFIG_FILE: join(dir, 'missing.yaml') })).message).toMatch(/cannot read config file .*missing\.yaml: ENOENT \(from env RB_CONFIG_FILE\)/);
    const bad = file('broken.yaml', 'a: [1,\n  token: hunter2\n');
    const err = errorOf(() => loadConfig(schema, { RB_CONFIG_FILE: bad }));
    expect(err.message).toMatch(/invalid YAML/);
    expect(err.message).not.toContain('hunter2');
    expect(errorOf(() => loadConfig(schema, { RB_CONFIG_FILE: file('list.yaml', '- 1\n') })).message).toMatch(/mapping at the top/);
  });

  it('treats an empty file as empty config', () => {
    expect(loadConfig(schema, { RB_CONFIG_FILE: file('empty.yaml', '') }).http.port).toBe(8080);
  });
});

describe('secrets', () => {
  it('resolves { file } and { env } while loading', () => {
    const f = file('token', 's3cr3t\n');
    expect(loadConfig(schema, { RB__token__file: f }).token).toBe('s3cr3t');
    expect(loadConfig(schema, { RB__token: '{"env":"MY_TOKEN"}', MY_TOKEN: 'from-env' }).token).toBe('from-env');
  });

  it('refuses a literal unless allowed, without echoing it', () => {
    const err = errorOf(() => loadConfig(schema, { RB__token: 'hunter2' }));
    expect(err.message).toBe('config: token: expected a secret as { file: path } or { env: NAME } (literal secrets are not allowed here) (from env RB__token)');
    const loose = z.object({ token: secret({ allowLiteral: true }) });
    expect(loadConfig(loose, { RB__token: 'hunter2' }).token).toBe('hunter2');
  });

  it('names the missing file or env var, never a value', () => {
    const f = file('config.yaml', `token: { file: ${join(dir, 'nope')} }\n`);
    expect(errorOf(() => loadConfig(schema, { RB_CONFIG_FILE: f })).message).toBe(`config: token: cannot read secret file ${join(dir, 'nope')}: ENOENT (from file ${f})`);
    expect(errorOf(() => loadConfig(schema, { RB__token__env: 'UNSET_VAR' })).message).toMatch(/secret env var UNSET_VAR is not set/);
  });

  it('keeps secret values out of messages about other keys', () => {
    const err = errorOf(() => loadConfig(schema, { RB__token__env: 'T', T: 'hunter2', RB__http__port: '"x"' }));
    expect(err.message).not.toContain('hunter2');
    expect(err.message).toContain('http.port');
  });
});
