import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CHART, WORKSPACE } from './chart';
import { alertRules, dashboardFromGenerator, usedMetrics } from './monitoring';

// The dashboard and alerts are only useful if they read metrics the apps really export and
// point operators at a runbook that exists.
describe('monitoring: dashboard and alerts', () => {
  it('the checked-in dashboard is what deploy/monitoring/build-dashboard.mjs produces', () => {
    expect(readFileSync(join(CHART, 'dashboards/registry-bridge.json'), 'utf8')).toBe(dashboardFromGenerator());
  });

  it('has the alerts operators need, each with a runbook section that exists', () => {
    const rules = alertRules();
    expect(rules.map((r) => r.alert).sort()).toEqual([
      'RegistryBridgeDeadLetters',
      'RegistryBridgeDeletionGuardTripped',
      'RegistryBridgePropagationSlow',
      'RegistryBridgeSourceStale',
      'RegistryBridgeSourceUnreachable',
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
