// Top functions by self time of a V8 .cpuprofile (from `--cpu-prof`), so a profile can be read
// without a browser:  node -r ts-node/register/transpile-only bench/src/cpu-profile-top.ts FILE [N]
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

const [file, n = '25'] = process.argv.slice(2);
if (!file) {
  process.stderr.write('usage: cpu-profile-top.ts FILE.cpuprofile [N]\n');
  process.exit(2);
}
const prof = JSON.parse(readFileSync(file, 'utf8')) as { nodes: Node[]; samples: number[]; timeDeltas: number[]; startTime: number; endTime: number };
const self = new Map<number, number>();
prof.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (prof.timeDeltas[i] ?? 0)));
const byFn = new Map<string, number>();
// packages inside a bundle or node_modules are named by package, our code by file and line
const where = (url: string, line: number) => {
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  return m ? m[1] : url ? `${basename(url)}:${line + 1}` : '(native)';
};
for (const node of prof.nodes) {
  const t = self.get(node.id) ?? 0;
  if (!t) continue;
  const k = `${node.callFrame.functionName || '(anonymous)'} ${where(node.callFrame.url, node.callFrame.lineNumber)}`;
  byFn.set(k, (byFn.get(k) ?? 0) + t);
}
const total = prof.endTime - prof.startTime;
const busy = [...byFn.entries()].filter(([k]) => !k.startsWith('(idle)')).reduce((a, [, v]) => a + v, 0);
process.stdout.write(`${basename(file)}: ${(total / 1e6).toFixed(1)} s wall, ${(busy / 1e6).toFixed(2)} s on CPU (${((busy / total) * 100).toFixed(1)}%)\n`);
for (const [k, v] of [...byFn.entries()].filter(([k2]) => !k2.startsWith('(idle)')).sort((a, b) => b[1] - a[1]).slice(0, Number(n))) {
  process.stdout.write(`${((v / busy) * 100).toFixed(1).padStart(5)}%  ${(v / 1e3).toFixed(0).padStart(7)} ms  ${k}\n`);
}
