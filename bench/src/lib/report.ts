// The run's outputs: a table on stdout, JSON, and an SVG of the latency distributions.
import { round, Summary } from './util';

export interface Row {
  measure: string;
  registry: string;
  value: string;
  target: string;
  verdict: string;
}

/** The API server's count of writes, and istiod's status writes beside it (they are not ours). */
export function apiWrites(w: { apiServer: number; statusWrites?: number }): string {
  return `api ${w.apiServer}${w.statusWrites ? ` (+${w.statusWrites} istiod status)` : ''}`;
}

export function verdict(value: number, limit: number, unit = ''): string {
  if (!Number.isFinite(value)) return 'not measured';
  if (value <= limit) return 'ok';
  return limit === 0 ? `MISS (+${round(value, 2)}${unit})` : `MISS (${round(value / limit, 2)}× target, +${round(value - limit, 1)}${unit})`;
}

export function table(rows: Row[]): string {
  const head: Row = { measure: 'measure', registry: 'registry', value: 'value', target: 'target', verdict: 'verdict' };
  const cols = Object.keys(head) as Array<keyof Row>;
  const w = cols.map((c) => Math.max(...[head, ...rows].map((r) => r[c].length)));
  const line = (r: Row) => `| ${cols.map((c, i) => r[c].padEnd(w[i])).join(' | ')} |`;
  return [line(head), `|${w.map((n) => '-'.repeat(n + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}

export const fmtMs = (s: Summary | undefined) =>
  s && s.n ? `p50 ${round(s.p50)} / p90 ${round(s.p90)} / p99 ${round(s.p99)} / max ${round(s.max)} ms (n=${s.n})` : 'no samples';

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b'];
const esc = (t: string) => t.replace(/&/g, '&amp;').replace(/</g, '&lt;');

/** Empirical CDFs on a log time axis: one line per series, p50/p99 marked. */
export function latencySvg(series: Array<{ name: string; ms: number[] }>, title: string): string {
  const W = 920;
  const H = 460;
  const L = 70;
  const R = 270;
  const T = 40;
  const B = 50;
  const all = series.flatMap((s) => s.ms);
  const lo = 1;
  const hi = Math.max(10, ...all.map((v) => Math.max(v, 1))) * 1.2;
  const x = (ms: number) => L + ((Math.log10(Math.max(ms, lo)) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo))) * (W - L - R);
  const y = (q: number) => T + (1 - q) * (H - T - B);
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`);
  out.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  out.push(`<text x="${L}" y="22" font-size="15" font-weight="bold">${esc(title)}</text>`);
  let lastLabelX = -Infinity;
  for (let d = 0; d <= Math.ceil(Math.log10(hi)); d++) {
    for (const m of [1, 2, 5]) {
      const v = m * 10 ** d;
      if (v < lo || v > hi) continue;
      out.push(`<line x1="${x(v)}" y1="${T}" x2="${x(v)}" y2="${H - B}" stroke="#ddd"/>`);
      // labels only where they do not run into the previous one (the axis compresses at long ranges)
      if (x(v) - lastLabelX < 42) continue;
      lastLabelX = x(v);
      const label = v >= 1000 ? `${v / 1000} s` : `${v} ms`;
      out.push(`<text x="${x(v)}" y="${H - B + 16}" text-anchor="middle">${label}</text>`);
    }
  }
  out.push(`<line x1="${L}" y1="${y(1)}" x2="${W - R}" y2="${y(1)}" stroke="#eee"/>`);
  for (const q of [0, 0.25, 0.5, 0.75, 0.9, 0.99]) {
    out.push(`<line x1="${L}" y1="${y(q)}" x2="${W - R}" y2="${y(q)}" stroke="${q === 0.5 || q === 0.99 ? '#bbb' : '#eee'}"/>`);
    out.push(`<text x="${L - 6}" y="${y(q) + 4}" text-anchor="end">${q * 100}%</text>`);
  }
  out.push(`<text x="${(L + W - R) / 2}" y="${H - 12}" text-anchor="middle">propagation latency (registry acknowledged → API server watch event), log scale</text>`);
  out.push(`<text transform="translate(16 ${(T + H - B) / 2}) rotate(-90)" text-anchor="middle">share of changes</text>`);
  series.forEach((s, k) => {
    const v = [...s.ms].sort((a, b) => a - b);
    const color = COLORS[k % COLORS.length];
    if (v.length) {
      const pts = v.map((ms, i) => `${x(ms).toFixed(1)},${y((i + 1) / v.length).toFixed(1)}`);
      out.push(`<polyline fill="none" stroke="${color}" stroke-width="2" points="${x(v[0]).toFixed(1)},${y(0)} ${pts.join(' ')}"/>`);
    }
    const p = (q: number) => (v.length ? v[Math.min(v.length - 1, Math.ceil(q * v.length) - 1)] : NaN);
    const ly = T + 10 + k * 42;
    out.push(`<line x1="${W - R + 15}" y1="${ly}" x2="${W - R + 35}" y2="${ly}" stroke="${color}" stroke-width="3"/>`);
    out.push(`<text x="${W - R + 40}" y="${ly + 4}">${esc(s.name)} (n=${v.length})</text>`);
    out.push(`<text x="${W - R + 40}" y="${ly + 19}" fill="#555">p50 ${round(p(0.5))} ms, p99 ${round(p(0.99))} ms</text>`);
  });
  out.push('</svg>');
  return out.join('\n');
}
