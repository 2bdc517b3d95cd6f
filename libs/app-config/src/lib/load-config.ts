import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { withActiveEnv } from './active-env';
import { findRenamedEnv, findRenamedKeys } from './config-renames';
import { strictDeep } from './strict-deep';

export const CONFIG_FILE_ENV = 'RB_CONFIG_FILE';
export const ENV_OVERRIDE_PREFIX = 'RB__';

export interface ConfigProblem {
  /** Dotted key path, e.g. `reconcile.concurrency`. */
  path: string;
  message: string;
  /** `file <path>`, `env <NAME>`, or undefined when the key was set nowhere. */
  source?: string;
}

/** A config that cannot start the app. The message lists every problem; it never contains a value. */
export class ConfigError extends Error {
  override name = 'ConfigError';
  constructor(readonly problems: ConfigProblem[]) {
    super(problems.map(formatProblem).join('\n'));
  }
}

function formatProblem(p: ConfigProblem): string {
  const where = p.source ? ` (from ${p.source})` : '';
  return `config: ${p.path || '(root)'}: ${p.message}${where}`;
}

export interface LoadConfigOptions {
  /** Make every object strict (unknown keys are errors). Default true. */
  strict?: boolean;
}

type Tree = Record<string, unknown>;
const isTree = (v: unknown): v is Tree => typeof v === 'object' && v !== null && !Array.isArray(v);
const pathKey = (path: readonly PropertyKey[]) => path.map(String).join('.');

/** Where each value came from, by dotted path; a lookup walks up to the nearest set ancestor. */
class Provenance {
  private readonly sources = new Map<string, string>();
  set(path: string, source: string): void {
    // An env override replaces whatever the file had below that path.
    for (const key of [...this.sources.keys()]) if (key === path || key.startsWith(`${path}.`)) this.sources.delete(key);
    this.sources.set(path, source);
  }
  lookup(path: readonly PropertyKey[]): string | undefined {
    for (let n = path.length; n >= 0; n--) {
      const hit = this.sources.get(pathKey(path.slice(0, n)));
      if (hit) return hit;
    }
    return undefined;
  }
}

function readFile(file: string, provenance: Provenance): Tree {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError([{ path: '', message: `cannot read config file ${file}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`, source: `env ${CONFIG_FILE_ENV}` }]);
  }
  let data: unknown;
  try {
    data = parseYaml(text);
  } catch (err) {
    // First line only: the rest of a YAML error quotes the file, which may hold a secret.
    throw new ConfigError([{ path: '', message: `invalid YAML: ${String((err as Error).message).split('\n')[0]}`, source: `file ${file}` }]);
  }
  if (data === null || data === undefined) return {};
  if (!isTree(data)) throw new ConfigError([{ path: '', message: 'the config file must hold a mapping at the top', source: `file ${file}` }]);
  provenance.set('', `file ${file}`);
  return data;
}

function parseEnvValue(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}

interface EnvOverride {
  name: string;
  path: string[];
  raw: string;
}

function envOverrides(env: NodeJS.ProcessEnv): EnvOverride[] {
  const out: EnvOverride[] = [];
  for (const [name, raw] of Object.entries(env)) {
    if (!name.startsWith(ENV_OVERRIDE_PREFIX) || raw === undefined) continue;
    const path = name.slice(ENV_OVERRIDE_PREFIX.length).split('__');
    if (path.some((s) => !s)) throw new ConfigError([{ path: '', message: `malformed override name (empty path segment)`, source: `env ${name}` }]);
    out.push({ name, path, raw });
  }
  // Shorter paths first, so RB__a={"b":1} is applied before RB__a__c=2 refines it.
  return out.sort((a, b) => a.path.length - b.path.length || a.name.localeCompare(b.name));
}

function setPath(root: Tree, path: string[], value: unknown, name: string): void {
  let node: Tree | unknown[] = root;
  for (let i = 0; i < path.length - 1; i++) {
    const seg = path[i];
    const next: unknown = Array.isArray(node) ? node[Number(seg)] : node[seg];
    if (next === undefined || next === null) {
      const created: Tree | unknown[] = /^\d+$/.test(path[i + 1]) ? [] : {};
      if (Array.isArray(node)) node[Number(seg)] = created;
      else node[seg] = created;
      node = created;
    } else if (typeof next === 'object') {
      node = next as Tree | unknown[];
    } else {
      throw new ConfigError([{ path: path.slice(0, i + 1).join('.'), message: 'cannot set a key below a value that is not a mapping', source: `env ${name}` }]);
    }
  }
  const last = path[path.length - 1];
  if (Array.isArray(node)) {
    if (!/^\d+$/.test(last)) throw new ConfigError([{ path: path.join('.'), message: 'list index must be a number', source: `env ${name}` }]);
    node[Number(last)] = value;
  } else node[last] = value;
}

function typeName(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'list';
  if (typeof v === 'object') return 'mapping';
  return typeof v;
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let node = root;
  for (const seg of path) {
    if (typeof node !== 'object' || node === null) return undefined;
    node = (node as Record<PropertyKey, unknown>)[seg as string];
  }
  return node;
}

function describe(issue: z.core.$ZodIssue, raw: unknown, provenance: Provenance): ConfigProblem[] {
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((k) => {
      const path = [...issue.path, k];
      return { path: pathKey(path), message: 'unknown key', source: provenance.lookup(path) };
    });
  }
  const source = provenance.lookup(issue.path);
  if (issue.code === 'invalid_type') {
    const got = valueAt(raw, issue.path);
    const message = got === undefined ? `expected ${issue.expected}, but it is not set` : `expected ${issue.expected}, got ${typeName(got)}`;
    return [{ path: pathKey(issue.path), message, source: got === undefined ? undefined : source }];
  }
  return [{ path: pathKey(issue.path), message: issue.message.replace(/^Invalid input: /, ''), source }];
}

/**
 * Loads an app's config: the YAML file named by `RB_CONFIG_FILE` (optional), then overrides
 * from `RB__a__b__c=value` env vars (JSON when the value parses as JSON, else a string), then
 * validation. Throws `ConfigError` naming every bad key and where it came from, and every renamed
 * key (`CONFIG_RENAMES`) with its new name.
 */
export function loadConfig<S extends z.ZodType>(schema: S, env: NodeJS.ProcessEnv = process.env, options: LoadConfigOptions = {}): z.infer<S> {
  const provenance = new Provenance();
  const file = env[CONFIG_FILE_ENV];
  const data: Tree = file ? readFile(file, provenance) : {};
  const overrides = envOverrides(env);
  for (const o of overrides) {
    setPath(data, o.path, parseEnvValue(o.raw), o.name);
    provenance.set(o.path.join('.'), `env ${o.name}`);
  }

  // An old key would otherwise read as "unknown key" (or, moved, as a missing one): name its new key.
  const renamed = [
    ...findRenamedKeys(data).map((r) => ({ ...r, source: provenance.lookup(r.path.split('.')) })),
    ...findRenamedEnv(env).map((r) => ({ path: '', message: r.message, source: `env ${r.name}` })),
  ];
  if (renamed.length) throw new ConfigError(renamed);

  const effective = options.strict === false ? schema : strictDeep(schema);
  const parse = (input: unknown) => withActiveEnv(env, () => effective.safeParse(input));
  const first = parse(data);
  if (first.success) return first.data as z.infer<S>;

  // `RB__x__name=0123` parses as a number; when a failing path was set by env with a value that
  // JSON turned into a non-string, try it again as the plain string the operator typed.
  const failing = new Set(first.error.issues.map((i) => pathKey(i.path)));
  const retried = overrides.filter((o) => failing.has(o.path.join('.')) && typeof parseEnvValue(o.raw) !== 'string');
  let issues = first.error.issues;
  if (retried.length) {
    const again: Tree = structuredClone(data);
    for (const o of retried) setPath(again, o.path, o.raw, o.name);
    const second = parse(again);
    if (second.success) return second.data as z.infer<S>;
    // Keep the first verdict on a retried path: "expected number, got string" would mislead there.
    const retriedPaths = new Set(retried.map((o) => o.path.join('.')));
    issues = [
      ...second.error.issues.filter((i) => !retriedPaths.has(pathKey(i.path))),
      ...first.error.issues.filter((i) => retriedPaths.has(pathKey(i.path)) && second.error.issues.some((j) => pathKey(j.path) === pathKey(i.path))),
    ];
  }
  throw new ConfigError(issues.flatMap((i) => describe(i, data, provenance)));
}
