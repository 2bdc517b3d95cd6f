import { ConfigError } from '@registry-bridge/app-config';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { allExamples, APP_SCHEMAS, AppConfigKind, DocExample, EXAMPLE_KINDS, extractExamples, loadAppConfig, loadAsApp, parseExample, renderChartWith, renderedAppConfigs, where, WORKSPACE } from './doc-examples';

// A config example that does not work when copied fails here, not for a user: every fenced
// yaml/json block of README.md and docs/ is extracted and checked according to its marker.
const examples = allExamples();
const ofKind = (...kinds: string[]) => examples.filter((e) => e.kind && kinds.includes(e.kind));
const named = <T extends DocExample>(list: T[]) => list.map((e) => [where(e), e] as const);
/** The message a load fails with ('' when it loads): a ConfigError names every bad key. */
const problemOf = (load: () => unknown) => {
  try {
    load();
    return '';
  } catch (err) {
    return err instanceof ConfigError ? err.message : String(err);
  }
};
const appConfigs = ofKind(...Object.keys(APP_SCHEMAS)) as Array<DocExample & { kind: AppConfigKind }>;

describe('extractExamples', () => {
  it('takes yaml/yml/json blocks with the marker on the nearest line above, and nothing else', () => {
    const md = [
      '# t',
      '<!-- rb-example: writer-config local -->',
      '',
      '```yaml',
      'a: 1',
      '```',
      '```bash',
      'echo "```yaml"',
      '```',
      'text',
      '```json',
      '{"b": 2}',
      '```',
      '<!-- rb-example: output -->',
      '```yml',
      'c: 3',
      '```',
    ].join('\n');
    expect(extractExamples('x.md', md)).toEqual([
      { file: 'x.md', line: 4, lang: 'yaml', kind: 'writer-config', local: true, text: 'a: 1' },
      { file: 'x.md', line: 11, lang: 'json', kind: undefined, local: false, text: '{"b": 2}' },
      { file: 'x.md', line: 15, lang: 'yaml', kind: 'output', local: false, text: 'c: 3' },
    ]);
  });

  it('reads README.md and every markdown file under docs/', () => {
    const files = new Set(examples.map((e) => e.file));
    expect([...files]).toEqual(expect.arrayContaining(['README.md', 'docs/collectors/consul.md', 'docs/collectors/eureka.md', 'docs/collectors/cloudmap.md', 'docs/deploy.md']));
    const collectorDocs = readdirSync(join(WORKSPACE, 'docs/collectors')).filter((f) => f.endsWith('.md'));
    for (const f of collectorDocs) expect([f, files.has(`docs/collectors/${f}`)]).toEqual([f, true]);
  });
});

describe('every yaml/json block in README.md and docs/', () => {
  it('carries a marker of a known kind (<!-- rb-example: KIND --> on the line before the fence)', () => {
    const unmarked = examples.filter((e) => !e.kind || !(e.kind in EXAMPLE_KINDS)).map((e) => `${where(e)} (${e.kind ?? 'no marker'})`);
    expect(unmarked).toEqual([]);
  });

  it('asks for a local start only on an app config', () => {
    expect(examples.filter((e) => e.local && !(e.kind && e.kind in APP_SCHEMAS)).map(where)).toEqual([]);
  });

  it.each(named(examples))('%s parses', (_w, e) => {
    expect(parseExample(e).length).toBeGreaterThan(0);
  });
});

describe('app config examples', () => {
  it('cover every app', () => {
    expect(new Set(appConfigs.map((e) => e.kind))).toEqual(new Set(Object.keys(APP_SCHEMAS)));
  });

  it.each(named(appConfigs))('%s loads with the app\'s own loader and schema', (_w, e) => {
    expect(problemOf(() => loadAppConfig(e))).toBe('');
  });

  it('the loader used here refuses what the app refuses (a wrong key fails, naming it)', () => {
    const [first] = appConfigs.filter((e) => e.kind === 'collector-consul-config');
    expect(() => loadAppConfig({ ...first, text: `${first.text}\nsoures: []` })).toThrow(/soures: unknown key/);
  });
});

describe('helm values examples', () => {
  it.each(named(ofKind('helm-values')))('%s renders with the chart, and each app loads the config it renders', (_w, e) => {
    const manifests = renderChartWith(e);
    const kinds = parseAllDocuments(manifests).map((d) => (d.toJSON() as { kind?: string } | null)?.kind);
    expect(kinds).toEqual(expect.arrayContaining(['Deployment', 'ConfigMap']));
    const configs = renderedAppConfigs(manifests);
    expect(configs.length).toBeGreaterThan(1);
    for (const c of configs) expect([c.kind, problemOf(() => loadAsApp(c.kind, c.config))]).toEqual([c.kind, '']);
  });
});

describe('Istio manifest examples', () => {
  it.each(named(ofKind('istio-manifest')))('%s holds ServiceEntries/WorkloadEntries with a spec', (_w, e) => {
    for (const doc of parseExample(e) as Array<{ apiVersion?: string; kind?: string; spec?: unknown }>) {
      expect(['ServiceEntry', 'WorkloadEntry']).toContain(doc.kind);
      if (doc.apiVersion) expect(doc.apiVersion).toBe('networking.istio.io/v1');
      expect(typeof doc.spec).toBe('object');
    }
  });
});

describe('Istio install examples', () => {
  // proxyMetadata values are environment variables of the sidecar: istioctl refuses a YAML boolean.
  it.each(named(ofKind('istio-install')))('%s is an IstioOperator whose proxyMetadata values are strings', (_w, e) => {
    for (const doc of parseExample(e) as Array<{ apiVersion?: string; kind?: string; spec?: { meshConfig?: { defaultConfig?: { proxyMetadata?: Record<string, unknown> } } } }>) {
      expect([doc.apiVersion, doc.kind]).toEqual(['install.istio.io/v1alpha1', 'IstioOperator']);
      const metadata = doc.spec?.meshConfig?.defaultConfig?.proxyMetadata ?? {};
      expect(Object.keys(metadata).length).toBeGreaterThan(0);
      for (const [k, v] of Object.entries(metadata)) expect([k, typeof v]).toEqual([k, 'string']);
    }
  });
});

describe('IAM policy examples', () => {
  // The Cloud Map actions the collector calls, from the reader's own source: a policy with fewer
  // breaks the collector, one with more grants what it never uses.
  const reader = readFileSync(join(WORKSPACE, 'libs/registry-cloudmap/src/lib/cloudmap-reader.service.ts'), 'utf8');
  const called = new Set([...reader.matchAll(/new (\w+)Command\(|paginate(\w+)\(/g)].map((m) => `servicediscovery:${m[1] ?? m[2]}`));

  it.each(named(ofKind('iam-policy')))('%s allows exactly the servicediscovery reads the collector makes', (_w, e) => {
    expect(called.size).toBeGreaterThan(4);
    const [policy] = parseExample(e) as Array<{ Statement: Array<{ Effect: string; Action: string[] }> }>;
    const allowed = policy.Statement.filter((s) => s.Effect === 'Allow').flatMap((s) => s.Action);
    expect(new Set(allowed)).toEqual(called);
  });
});
