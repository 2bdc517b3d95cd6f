import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { CHART, render, RenderOptions, WORKSPACE } from './chart';

/** Metric names (registry_bridge_*) used by the dashboard and the alerts, histogram suffixes folded. */
export function usedMetrics(): { dashboard: Set<string>; alerts: Set<string> } {
  const fold = (text: string) => new Set([...text.matchAll(/registry_bridge_[a-z0-9_]+/g)].map((m) => m[0].replace(/_(bucket|sum|count)$/, '')));
  const dashboard = fold(readFileSync(join(CHART, 'dashboards/registry-bridge.json'), 'utf8'));
  return { dashboard, alerts: fold(alertRules().map((r) => r.expr).join('\n')) };
}

export interface AlertRule {
  alert: string;
  expr: string;
  for?: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

/** The `spec` of the rendered PrometheusRule (the same shape as a Prometheus rule file). */
export function ruleSpec(o: RenderOptions = {}): { groups: Array<{ name: string; rules: AlertRule[] }> } {
  const metrics = (o.values?.['metrics'] ?? {}) as { prometheusRule?: object };
  const values = { ...o.values, metrics: { ...metrics, prometheusRule: { enabled: true, ...metrics.prometheusRule } } };
  const rules = render({ ...o, values }).filter((r) => r.kind === 'PrometheusRule');
  if (rules.length !== 1) throw new Error(`expected one PrometheusRule, rendered ${rules.length}`);
  return rules[0]['spec'] as { groups: Array<{ name: string; rules: AlertRule[] }> };
}

export function alertRules(o: RenderOptions = {}): AlertRule[] {
  return ruleSpec(o).groups.flatMap((g) => g.rules);
}

/**
 * Runs `promtool test rules` (Prometheus' own rule evaluator; Debian package `prometheus`) on the
 * rendered rules and a unit-test file; returns its output, throws with it when a case fails.
 */
export function promtoolTestRules(rules: object, tests: object): string {
  const dir = mkdtempSync(join(tmpdir(), 'rb-promtool-'));
  writeFileSync(join(dir, 'rules.yaml'), stringify(rules));
  writeFileSync(join(dir, 'tests.yaml'), stringify({ rule_files: ['rules.yaml'], evaluation_interval: '1m', ...tests }));
  const res = spawnSync('promtool', ['test', 'rules', 'tests.yaml'], { cwd: dir, encoding: 'utf8' });
  if (res.error) throw new Error(`promtool is needed for the alert tests (apt-get install prometheus): ${res.error.message}`);
  const out = `${res.stdout}${res.stderr}`;
  if (res.status !== 0) throw new Error(`promtool test rules failed:\n${out}`);
  return out;
}

export function dashboardFromGenerator(): string {
  return execFileSync(process.execPath, [join(WORKSPACE, 'deploy/monitoring/build-dashboard.mjs'), '--stdout'], { encoding: 'utf8' });
}
