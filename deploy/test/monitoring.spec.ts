import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CHART, CI_VALUES, find, K8sObject, render, renderError, WORKSPACE } from './chart';
import { alertRules, dashboardFromGenerator, promtoolTestRules, ruleSpec, usedMetrics } from './monitoring';

// The dashboard and alerts are only useful if they read metrics the apps really export and
// point operators at a runbook that exists.
describe('monitoring: dashboard and alerts', () => {
  it('the checked-in dashboard is what deploy/monitoring/build-dashboard.mjs produces', () => {
    expect(readFileSync(join(CHART, 'dashboards/registry-bridge.json'), 'utf8')).toBe(dashboardFromGenerator());
  });

  it('has the alerts operators need, each with a runbook section that exists', () => {
    const rules = alertRules();
    expect(rules.map((r) => r.alert).sort()).toEqual([
      'RegistryBridgeCollectorDown',
      'RegistryBridgeDeadLetters',
      'RegistryBridgeDeletionGuardTripped',
      'RegistryBridgePropagationSlow',
      'RegistryBridgeSourceStale',
      'RegistryBridgeSourceUnreachable',
      'RegistryBridgeWriterDown',
      'RegistryBridgeWriterNoLeader',
    ]);
    const runbooks = readFileSync(join(WORKSPACE, 'docs/runbooks.md'), 'utf8');
    const anchors = new Set([...runbooks.matchAll(/^## (\S+)/gm)].map((m) => m[1].toLowerCase()));
    for (const r of rules) {
      const anchor = r.annotations['runbook_url'].split('#')[1];
      expect([r.alert, anchors.has(anchor)]).toEqual([r.alert, true]);
    }
  });

  it('uses only metric names that some app or lib registers', () => {
    const { dashboard, alerts } = usedMetrics();
    expect(dashboard.size).toBeGreaterThan(15);
    const sources = (require('node:child_process') as typeof import('node:child_process'))
      .execFileSync('git', ['grep', '-h', '-o', "'registry_bridge_[a-z0-9_]*'", '--', 'apps', 'libs', ':!*.spec.ts', ':!*.int-spec.ts'], { cwd: WORKSPACE, encoding: 'utf8' });
    const registered = new Set(sources.split('\n').map((l) => l.replace(/'/g, '')).filter(Boolean));
    const missing = [...dashboard, ...alerts].filter((m) => !registered.has(m));
    expect(missing).toEqual([]);
  });
});

// Every other alert reads series the writer exports: with no writer (or no collector) running at
// all there is nothing to compute them from, so only an alert on the scrape itself pages.
describe('absence alerts', () => {
  const NS = 'registry-bridge';
  const allApps = { valuesFiles: [CI_VALUES[0]], namespace: NS };
  const job = (app: string) => `rb-registry-bridge-${app}`;
  const up = (app: string, instance: string, namespace = NS) => `up{job="${job(app)}",namespace="${namespace}",instance="${instance}"}`;
  const runbook = 'https://github.com/registry-bridge/registry-bridge/blob/main/docs/runbooks.md';
  const writerDown = {
    exp_labels: { severity: 'critical' },
    exp_annotations: { summary: 'No registry-bridge writer is up; registry changes do not reach Istio.', runbook_url: `${runbook}#registrybridgewriterdown` },
  };
  const consulDown = {
    exp_labels: { severity: 'critical', collector: 'consul' },
    exp_annotations: {
      summary: 'No registry-bridge consul collector is up; its sources go silent and their ServiceEntries freeze.',
      runbook_url: `${runbook}#registrybridgecollectordown`,
    },
  };
  const collectorsUp = ['collector-consul', 'collector-eureka', 'collector-cloudmap'].map((app) => ({ series: up(app, 'c-0'), values: '1x15' }));

  it('select exactly the job and namespace that the chart\'s ServiceMonitors scrape', () => {
    const objs = render(allApps);
    const monitors = find(objs, 'ServiceMonitor');
    expect(monitors).toHaveLength(4);
    const rules = alertRules(allApps).filter((r) => r.expr.startsWith('absent('));
    for (const sm of monitors) {
      const spec = sm['spec'] as { jobLabel?: string; selector: { matchLabels: Record<string, string> }; namespaceSelector: { matchNames: string[] } };
      // Without a jobLabel the Prometheus Operator sets job to the scraped Service's name.
      expect(spec.jobLabel).toBeUndefined();
      const [namespace] = spec.namespaceSelector.matchNames;
      const services = find(objs, 'Service', undefined, namespace).filter((svc: K8sObject) =>
        Object.entries(spec.selector.matchLabels).every(([k, v]) => svc.metadata.labels?.[k] === v),
      );
      expect(services).toHaveLength(1);
      const expr = `absent(up{job="${services[0].metadata.name}", namespace="${namespace}"} == 1)`;
      expect([sm.metadata.name, rules.filter((r) => r.expr === expr).length]).toEqual([sm.metadata.name, 1]);
    }
    expect(rules).toHaveLength(monitors.length);
  });

  it('exist only for the apps that are enabled', () => {
    const names = (values: Record<string, unknown>) => alertRules({ values }).filter((r) => r.expr.startsWith('absent(')).map((r) => r.labels['collector'] ?? r.alert);
    expect(names({})).toEqual(['RegistryBridgeWriterDown', 'consul']);
    expect(names({ writer: { enabled: false }, collectors: { consul: { enabled: false }, cloudmap: { enabled: true, sources: [{ name: 'cm', region: 'us-east-1' }] } } })).toEqual(['cloudmap']);
  });

  it('promtool: RegistryBridgeWriterDown fires when no writer target exists, or none is up, after absentFor; not while one is up', () => {
    const out = promtoolTestRules(ruleSpec(allApps), {
      tests: [
        {
          // No writer scraped at all (pods never became endpoints: image pull failure, scaled to 0).
          interval: '1m',
          input_series: collectorsUp,
          alert_rule_test: [
            { eval_time: '4m', alertname: 'RegistryBridgeWriterDown', exp_alerts: [] },
            { eval_time: '6m', alertname: 'RegistryBridgeWriterDown', exp_alerts: [writerDown] },
            // The alert this one complements has nothing to compute from here.
            { eval_time: '10m', alertname: 'RegistryBridgeWriterNoLeader', exp_alerts: [] },
            { eval_time: '10m', alertname: 'RegistryBridgeCollectorDown', exp_alerts: [] },
          ],
        },
        {
          // Both writers scraped but down (crash loop), then one comes back.
          interval: '1m',
          input_series: [...collectorsUp, { series: up('writer', 'w-0'), values: '0x8 1x7' }, { series: up('writer', 'w-1'), values: '0x15' }],
          alert_rule_test: [
            { eval_time: '6m', alertname: 'RegistryBridgeWriterDown', exp_alerts: [writerDown] },
            { eval_time: '10m', alertname: 'RegistryBridgeWriterDown', exp_alerts: [] },
          ],
        },
        {
          // A writer of another release or namespace does not count.
          interval: '1m',
          input_series: [...collectorsUp, { series: up('writer', 'w-0', 'elsewhere'), values: '1x15' }, { series: 'up{job="writer",namespace="registry-bridge",instance="x"}', values: '1x15' }],
          alert_rule_test: [{ eval_time: '6m', alertname: 'RegistryBridgeWriterDown', exp_alerts: [writerDown] }],
        },
      ],
    });
    expect(out).toContain('SUCCESS');
  });

  it('promtool: RegistryBridgeCollectorDown fires per collector kind with no replica up, not while one replica is', () => {
    const out = promtoolTestRules(ruleSpec(allApps), {
      tests: [
        {
          interval: '1m',
          input_series: [
            { series: up('writer', 'w-0'), values: '1x15' },
            { series: up('collector-consul', 'c-0'), values: '0x15' },
            { series: up('collector-eureka', 'e-0'), values: '0x15' },
            { series: up('collector-eureka', 'e-1'), values: '1x15' },
            { series: up('collector-cloudmap', 'm-0'), values: '1x15' },
          ],
          alert_rule_test: [
            { eval_time: '6m', alertname: 'RegistryBridgeCollectorDown', exp_alerts: [consulDown] },
            { eval_time: '6m', alertname: 'RegistryBridgeWriterDown', exp_alerts: [] },
          ],
        },
      ],
    });
    expect(out).toContain('SUCCESS');
  });
});

describe('runbook links', () => {
  it('are absolute by default (Alertmanager receivers cannot resolve a relative link)', () => {
    for (const r of alertRules()) expect([r.alert, r.annotations['runbook_url']]).toEqual([r.alert, expect.stringMatching(/^https:\/\/[^#]+\/docs\/runbooks\.md#[a-z]+$/)]);
  });

  it('follow metrics.prometheusRule.runbookBaseUrl', () => {
    const base = 'https://wiki.example.com/ops/registry-bridge';
    const rules = alertRules({ values: { metrics: { prometheusRule: { runbookBaseUrl: base } } } });
    expect(rules.map((r) => r.annotations['runbook_url'])).toEqual(rules.map((r) => `${base}#${r.alert.toLowerCase()}`));
  });

  it('a relative runbookBaseUrl is refused by the values schema', () => {
    expect(renderError({ values: { metrics: { prometheusRule: { enabled: true, runbookBaseUrl: 'docs/runbooks.md' } } } })).toContain('runbookBaseUrl');
  });
});
