import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CHART, render, WORKSPACE } from './chart';

/** Metric names (registry_bridge_*) used by the dashboard and the alerts, histogram suffixes folded. */
export function usedMetrics(): { dashboard: Set<string>; alerts: Set<string> } {
  const fold = (text: string) => new Set([...text.matchAll(/registry_bridge_[a-z0-9_]+/g)].map((m) => m[0].replace(/_(bucket|sum|count)$/, '')));
  const dashboard = fold(readFileSync(join(CHART, 'dashboards/registry-bridge.json'), 'utf8'));
  const rules = render({ values: { metrics: { prometheusRule: { enabled: true } } } }).filter((o) => o.kind === 'PrometheusRule');
  const exprs = rules.flatMap((r) => ((r.spec as { groups: Array<{ rules: Array<{ expr: string }> }> }).groups ?? []).flatMap((g) => g.rules.map((x) => x.expr)));
  return { dashboard, alerts: fold(exprs.join('\n')) };
}

export function alertRules(): Array<{ alert: string; expr: string; annotations: Record<string, string> }> {
  const rules = render({ values: { metrics: { prometheusRule: { enabled: true } } } }).filter((o) => o.kind === 'PrometheusRule');
  return rules.flatMap((r) => (r.spec as { groups: Array<{ rules: Array<{ alert: string; expr: string; annotations: Record<string, string> }> }> }).groups.flatMap((g) => g.rules));
}

export function dashboardFromGenerator(): string {
  return execFileSync(process.execPath, [join(WORKSPACE, 'deploy/monitoring/build-dashboard.mjs'), '--stdout'], { encoding: 'utf8' });
}
