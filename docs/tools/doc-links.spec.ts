import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { docFiles, WORKSPACE } from './doc-examples';

// The docs ship with the repo and are read from a clone: every link must land on a file of the
// repo (a page elsewhere can move, change or be unreachable from where the reader is).

const withoutCode = (markdown: string) => markdown.replace(/^\s*```[\s\S]*?^\s*```/gm, '');

/** Link targets of a markdown text, outside code blocks and code spans. */
function linkTargets(markdown: string): string[] {
  const prose = withoutCode(markdown).replace(/`[^`\n]*`/g, '');
  return [...prose.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)|^\s*\[[^\]]+\]:\s*(\S+)/gm)].map((m) => m[1] ?? m[2]);
}

/** Heading anchors of a markdown text as GitHub makes them (duplicates get -1, -2, ...). */
function anchors(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  for (const m of withoutCode(markdown).matchAll(/^#{1,6}\s+(.+)$/gm)) {
    const base = m[1].trim().toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-');
    const n = seen.get(base);
    seen.set(base, (n ?? -1) + 1);
    out.add(n === undefined ? base : `${base}-${n + 1}`);
  }
  return out;
}

describe('links in README.md and docs/', () => {
  it('linkTargets finds inline and reference links, not code', () => {
    const md = ['[a](x.md) and [b](../y.md#z "t")', '`[c](not-a-link)`', '```', '[d](nor-this)', '```', '[e]: ref.md'].join('\n');
    expect(linkTargets(md)).toEqual(['x.md', '../y.md#z', 'ref.md']);
  });

  it('point at files inside the repository that exist', () => {
    const bad: string[] = [];
    for (const file of docFiles()) {
      for (const target of linkTargets(readFileSync(join(WORKSPACE, file), 'utf8'))) {
        if (target.startsWith('#')) continue;
        const path = target.split('#')[0];
        const full = resolve(WORKSPACE, dirname(file), path);
        const rel = relative(WORKSPACE, full);
        if (/^[a-z][a-z0-9+.-]*:/i.test(target) || rel.startsWith('..') || !existsSync(full)) bad.push(`${file}: ${target}`);
      }
    }
    expect(bad).toEqual([]);
  });

  it('anchors are computed as GitHub does', () => {
    expect(anchors('# A `b` c!\n## Opt-in peers (scale-out)\n## A b c\n```\n# not a heading\n```')).toEqual(new Set(['a-b-c', 'opt-in-peers-scale-out', 'a-b-c-1']));
  });

  it('#anchors name a heading of the page they point at', () => {
    const bad: string[] = [];
    let checked = 0;
    for (const file of docFiles()) {
      for (const target of linkTargets(readFileSync(join(WORKSPACE, file), 'utf8'))) {
        const [path, anchor] = target.split('#');
        if (anchor === undefined || /^[a-z][a-z0-9+.-]*:/i.test(target)) continue;
        const page = path ? resolve(WORKSPACE, dirname(file), path) : join(WORKSPACE, file);
        if (!page.endsWith('.md') || !existsSync(page)) continue;
        checked++;
        if (!anchors(readFileSync(page, 'utf8')).has(anchor)) bad.push(`${file}: ${target}`);
      }
    }
    expect(checked).toBeGreaterThan(1);
    expect(bad).toEqual([]);
  });
});
