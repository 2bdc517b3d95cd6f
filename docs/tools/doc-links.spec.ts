import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { docFiles, WORKSPACE } from './doc-examples';

// The docs ship with the repo and are read from a clone: every link must land on a file of the
// repo (a page elsewhere can move, change or be unreachable from where the reader is).

/** Link targets of a markdown text, outside code blocks and code spans. */
function linkTargets(markdown: string): string[] {
  const prose = markdown.replace(/^\s*```[\s\S]*?^\s*```/gm, '').replace(/`[^`\n]*`/g, '');
  return [...prose.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)|^\s*\[[^\]]+\]:\s*(\S+)/gm)].map((m) => m[1] ?? m[2]);
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
});
