// Renders `kubectl get serviceentries,workloadentries -o json` (stdin) as a compact table.
import { readFileSync } from 'node:fs';

const list = JSON.parse(readFileSync(0, 'utf8'));
const ses = list.items.filter((o) => o.kind === 'ServiceEntry');
const wes = list.items.filter((o) => o.kind === 'WorkloadEntry');
const rows = [['SOURCE', 'HOST', 'PORTS', 'RES', 'ENDPOINTS', 'NAME']];
for (const se of ses.sort((a, b) => a.spec.hosts[0].localeCompare(b.spec.hosts[0]))) {
  const ports = (se.spec.ports ?? []).map((p) => `${p.number}/${p.protocol}`).join(',');
  const mine = wes.filter((w) => w.metadata.labels?.['registry-bridge.io/service-entry'] === se.metadata.name);
  const eps = se.spec.workloadSelector
    ? `${mine.length} WE: ${mine.map((w) => w.spec.address).sort().join(' ')}`
    : `${(se.spec.endpoints ?? []).length}: ${(se.spec.endpoints ?? []).map((e) => e.address).join(' ')}`;
  rows.push([se.metadata.labels?.['registry-bridge.io/source'] ?? '-', se.spec.hosts.join(','), ports, se.spec.resolution ?? '', eps, se.metadata.name]);
}
const width = rows[0].map((_, i) => Math.min(60, Math.max(...rows.map((r) => r[i].length))));
for (const r of rows) console.log(r.map((c, i) => (c.length > width[i] ? `${c.slice(0, width[i] - 1)}…` : c.padEnd(width[i]))).join('  '));
console.log(`\n${ses.length} ServiceEntries, ${wes.length} WorkloadEntries`);
