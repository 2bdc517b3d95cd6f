import { CONFIG_RENAMES, ENV_RENAMES } from '@registry-bridge/app-config';
import { collectorCloudMapConfigSchema, collectorConsulConfigSchema, collectorEurekaConfigSchema, writerConfigSchema } from '@registry-bridge/config';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { rows, table } from './config-reference';

const FILE = join(__dirname, '..', 'configuration.md');

const APPS: Array<[string, z.ZodType, string]> = [
  ['writer', writerConfigSchema, 'README.md#configuration-reference-writer'],
  ['collector-consul', collectorConsulConfigSchema, 'docs/collectors/consul.md'],
  ['collector-eureka', collectorEurekaConfigSchema, 'docs/collectors/eureka.md'],
  ['collector-cloudmap', collectorCloudMapConfigSchema, 'docs/collectors/cloudmap.md'],
];

function render(): string {
  const parts = [
    '# Configuration reference',
    '',
    '<!-- Generated from the zod schemas by docs/tools/config-reference.spec.ts; do not edit.',
    '     Regenerate with `npx nx run docs:config-reference`. -->',
    '',
    'Every app reads a YAML file (`RB_CONFIG_FILE`) and environment overrides `RB__path__to__key=value`',
    '(list items by index: `RB__sources__0__address=...`). Unknown keys are errors. Secrets are',
    '`{ file: /path }` or `{ env: NAME }`. The meaning of each key is described in the page linked',
    'under each app; this page is the exhaustive list of keys, types, defaults and limits.',
  ];
  for (const [app, schema, doc] of APPS) parts.push('', `## ${app}`, '', `Described in [${doc}](${doc.startsWith('docs/') ? doc.slice(5) : `../${doc}`}).`, '', table(schema));
  parts.push(
    '',
    '## Renamed keys',
    '',
    'An old key stops the app with a message naming its new key (`*` is any source); it is never read.',
    '',
    '| old key | new key | note |',
    '| --- | --- | --- |',
    ...CONFIG_RENAMES.map((r) => `| \`${r.from}\` | \`${r.to}\` | ${r.note ?? ''} |`),
    ...Object.entries(ENV_RENAMES).map(([name, to]) => `| env \`${name}\` | \`${to.split(' ')[0]}\` | ${to.split(' ').slice(1).join(' ')} |`),
  );
  return `${parts.join('\n')}\n`;
}

describe('configuration reference', () => {
  it('lists every key of every app schema', () => {
    for (const [app, schema] of APPS) {
      const keys = rows(schema).map((r) => r.key);
      expect([app, keys.length > 5]).toEqual([app, true]);
      expect([app, new Set(keys).size]).toEqual([app, keys.length]);
    }
    const writerKeys = rows(writerConfigSchema).map((r) => r.key);
    expect(writerKeys).toEqual(expect.arrayContaining(['redis.url', 'deletion.maxDeletes', 'sources.<name>.kind', 'defaults.allowedHostSuffixes']));
  });

  it('every new key of the renames exists in some app schema', () => {
    const keys = new Set(APPS.flatMap(([, schema]) => rows(schema).map((r) => r.key.replace(/\[\]/g, '.*'))));
    for (const r of CONFIG_RENAMES) expect([r.from, keys.has(r.to)]).toEqual([r.from, true]);
  });

  it('docs/configuration.md is current (RB_UPDATE_DOCS=1 rewrites it)', () => {
    const text = render();
    if (process.env['RB_UPDATE_DOCS'] === '1') writeFileSync(FILE, text);
    expect(readFileSync(FILE, 'utf8')).toBe(text);
  });
});
