import { CONFIG_FILE_ENV, loadConfig } from '@registry-bridge/app-config';
import { collectorCloudMapConfigSchema, collectorConsulConfigSchema, collectorEurekaConfigSchema, writerConfigSchema } from '@registry-bridge/config';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { z } from 'zod';

// Every fenced yaml/json block of README.md and docs/ says what it is with a marker on the line
// before its fence (invisible when rendered, not part of what a reader copies):
//   <!-- rb-example: collector-consul-config local -->
// An app config is loaded with the app's own loader and schema; `local` also starts the built
// app with it against the real peers (docs/tools/doc-examples.int-spec.ts).

export const WORKSPACE = join(__dirname, '..', '..');

/** App configs, by marker kind: what the app itself validates them with. */
export const APP_SCHEMAS = {
  'writer-config': { app: 'writer', schema: writerConfigSchema },
  'collector-consul-config': { app: 'collector-consul', schema: collectorConsulConfigSchema },
  'collector-eureka-config': { app: 'collector-eureka', schema: collectorEurekaConfigSchema },
  'collector-cloudmap-config': { app: 'collector-cloudmap', schema: collectorCloudMapConfigSchema },
} as const satisfies Record<string, { app: string; schema: z.ZodType }>;

export type AppConfigKind = keyof typeof APP_SCHEMAS;

/** Everything a block may be, and what the test does with it. */
export const EXAMPLE_KINDS: Record<string, string> = {
  ...Object.fromEntries(Object.entries(APP_SCHEMAS).map(([k, v]) => [k, `a ${v.app} config file: loaded with its schema`])),
  'helm-values': 'values for the chart: rendered with helm template (values.schema.json and the templates\' own checks)',
  'istio-manifest': 'ServiceEntry/WorkloadEntry the writer produces (may be abridged): parsed, kinds checked',
  'iam-policy': 'an AWS IAM policy document: parsed, actions are servicediscovery reads',
  'istio-install': 'Istio install settings (an IstioOperator) a prerequisite asks for: parsed, the proxy metadata it sets are strings',
  output: 'output of a command, shown for reading (not a config): must parse',
};

export interface DocExample {
  /** Path relative to the workspace. */
  file: string;
  /** 1-based line of the opening fence. */
  line: number;
  lang: 'yaml' | 'json';
  /** The marker's kind, undefined when the block has no marker. */
  kind?: string;
  /** The marker asks for a start against the local peers. */
  local: boolean;
  text: string;
}

export const where = (e: Pick<DocExample, 'file' | 'line'>) => `${e.file}:${e.line}`;

const MARKER = /^<!--\s*rb-example:\s*([a-z-]+)((?:\s+[a-z]+)*)\s*-->$/;
const FENCE = /^\s*```\s*([A-Za-z]*)\s*$/;
const LANGS: Record<string, DocExample['lang']> = { yaml: 'yaml', yml: 'yaml', json: 'json', jsonc: 'json' };

/** The markdown files whose examples are checked: README.md and everything under docs/. */
export function docFiles(root = WORKSPACE): string[] {
  const out = ['README.md'];
  const walk = (dir: string) => {
    for (const d of readdirSync(join(root, dir), { withFileTypes: true })) {
      const rel = join(dir, d.name);
      if (d.isDirectory()) walk(rel);
      else if (d.name.endsWith('.md')) out.push(rel);
    }
  };
  walk('docs');
  return out.sort();
}

/** The fenced yaml/json blocks of one markdown text, each with the marker above it, if any. */
export function extractExamples(file: string, markdown: string): DocExample[] {
  const lines = markdown.split('\n');
  const out: DocExample[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = FENCE.exec(lines[i]);
    if (!open) continue;
    let end = i + 1;
    while (end < lines.length && !/^\s*```\s*$/.test(lines[end])) end++;
    const lang = LANGS[open[1].toLowerCase()];
    if (lang) {
      let m = i - 1;
      while (m >= 0 && !lines[m].trim()) m--;
      const marker = m >= 0 ? MARKER.exec(lines[m].trim()) : null;
      const flags = marker ? marker[2].trim().split(/\s+/).filter(Boolean) : [];
      out.push({ file, line: i + 1, lang, kind: marker?.[1], local: flags.includes('local'), text: lines.slice(i + 1, end).join('\n') });
    }
    i = end;
  }
  return out;
}

export function allExamples(root = WORKSPACE): DocExample[] {
  return docFiles(root).flatMap((f) => extractExamples(f, readFileSync(join(root, f), 'utf8')));
}

/** The block's documents; a syntax error throws naming the block. */
export function parseExample(e: DocExample): unknown[] {
  if (e.lang === 'json') {
    try {
      return [JSON.parse(e.text)];
    } catch (err) {
      throw new Error(`${where(e)}: invalid JSON: ${(err as Error).message}`);
    }
  }
  const docs = parseAllDocuments(e.text);
  for (const d of docs) if (d.errors.length) throw new Error(`${where(e)}: invalid YAML: ${d.errors[0].message.split('\n')[0]}`);
  return docs.map((d) => d.toJSON() as unknown);
}

/**
 * The block as a config file an app can start with, plus the env it needs: secrets given as
 * `{ file }` point at files made here (a reader has their own), `{ env }` names are set.
 */
export function configFileOf(e: DocExample, extraEnv: NodeJS.ProcessEnv = {}): { file: string; env: NodeJS.ProcessEnv } {
  return configFileFrom(parseExample(e)[0], extraEnv);
}

function configFileFrom(doc: unknown, extraEnv: NodeJS.ProcessEnv): { file: string; env: NodeJS.ProcessEnv } {
  const dir = mkdtempSync(join(tmpdir(), 'rb-doc-example-'));
  const env: NodeJS.ProcessEnv = { ...extraEnv };
  let n = 0;
  const walk = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(walk);
    if (typeof v !== 'object' || v === null) return v;
    const o = v as Record<string, unknown>;
    const keys = Object.keys(o);
    if (keys.length === 1 && keys[0] === 'file' && typeof o['file'] === 'string') {
      const file = join(dir, `secret-${n++}`);
      writeFileSync(file, 'example-secret\n');
      return { file };
    }
    if (keys.length === 1 && keys[0] === 'env' && typeof o['env'] === 'string') {
      env[o['env']] ??= 'example-secret';
      return o;
    }
    return Object.fromEntries(keys.map((k) => [k, walk(o[k])]));
  };
  const file = join(dir, 'config.yaml');
  writeFileSync(file, JSON.stringify(walk(doc)));
  return { file, env };
}

/** Loads a config exactly as the app does at start (strict, secrets resolved). */
export function loadAsApp(kind: AppConfigKind, doc: unknown): unknown {
  const { file, env } = configFileFrom(doc, {});
  return loadConfig(APP_SCHEMAS[kind].schema, { ...env, [CONFIG_FILE_ENV]: file });
}

export function loadAppConfig(e: DocExample & { kind: AppConfigKind }): unknown {
  return loadAsApp(e.kind, parseExample(e)[0]);
}

/** The app configs a chart rendering holds (ConfigMap `config.yaml` of each app), by kind. */
export function renderedAppConfigs(manifests: string): Array<{ kind: AppConfigKind; config: unknown }> {
  const kindOf = Object.fromEntries(Object.entries(APP_SCHEMAS).map(([k, v]) => [v.app, k as AppConfigKind]));
  const out: Array<{ kind: AppConfigKind; config: unknown }> = [];
  for (const d of parseAllDocuments(manifests)) {
    const o = d.toJSON() as { kind?: string; metadata?: { labels?: Record<string, string> }; data?: Record<string, string> } | null;
    const kind = kindOf[o?.metadata?.labels?.['app.kubernetes.io/component'] ?? ''];
    const text = o?.kind === 'ConfigMap' ? o.data?.['config.yaml'] : undefined;
    if (kind && text !== undefined) out.push({ kind, config: parseAllDocuments(text)[0].toJSON() as unknown });
  }
  return out;
}

let helmPath: string | undefined;
/** Renders the chart with a values block; throws with helm's message when the chart refuses it. */
export function renderChartWith(e: DocExample): string {
  helmPath ??= execFileSync('bash', [join(WORKSPACE, 'scripts/tools.sh'), 'helm'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
  const values = join(mkdtempSync(join(tmpdir(), 'rb-doc-values-')), 'values.yaml');
  writeFileSync(values, e.text);
  try {
    return execFileSync(helmPath, ['template', 'registry-bridge', join(WORKSPACE, 'deploy/helm/registry-bridge'), '--namespace', 'registry-bridge', '-f', values], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (err) {
    throw new Error(`${where(e)}: helm template refused the values: ${String((err as { stderr?: string }).stderr ?? err)}`);
  }
}

