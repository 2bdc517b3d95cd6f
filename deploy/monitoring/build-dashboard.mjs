// Builds the Grafana dashboard of registry-bridge from a short panel list, so the JSON stays
// consistent. `node deploy/monitoring/build-dashboard.mjs` rewrites
// deploy/helm/registry-bridge/dashboards/registry-bridge.json (deploy:test checks it is current;
// `--stdout` prints instead).
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, '../helm/registry-bridge/dashboards/registry-bridge.json');
const sel = 'namespace=~"$namespace"';

const rows = [
  ['Sources', [
    ['Source reachable (1 = yes)', 'stat', [[`min by (source) (registry_bridge_source_reachable{${sel}})`, '{{source}}']]],
    ['Seconds since last heard', 'timeseries', [[`max by (source) (registry_bridge_source_staleness_seconds{${sel}})`, '{{source}}']], 's'],
    ['Complete snapshot delivered', 'stat', [[`min by (source) (registry_bridge_source_snapshot_complete{${sel}})`, '{{source}}']]],
  ]],
  ['Propagation and writes', [
    ['Propagation p50 / p99 (registry change to applied)', 'timeseries', [
      [`histogram_quantile(0.5, sum by (le, source) (rate(registry_bridge_propagation_seconds_bucket{${sel}}[5m])))`, 'p50 {{source}}'],
      [`histogram_quantile(0.99, sum by (le, source) (rate(registry_bridge_propagation_seconds_bucket{${sel}}[5m])))`, 'p99 {{source}}'],
    ], 's'],
    ['Kubernetes writes by kind and action', 'timeseries', [[`sum by (kind, action) (rate(registry_bridge_kube_writes_total{${sel}}[5m]))`, '{{kind}} {{action}}']], 'ops'],
    ['No-op skips (already right)', 'timeseries', [[`sum by (kind) (rate(registry_bridge_noop_skips_total{${sel}}[5m]))`, '{{kind}}']], 'ops'],
    ['API requests by outcome', 'timeseries', [[`sum by (verb, outcome) (rate(registry_bridge_kube_requests_total{${sel}}[5m]))`, '{{verb}} {{outcome}}']], 'reqps'],
  ]],
  ['Safety', [
    ['Deletion guard trips', 'timeseries', [[`sum by (source, guard) (increase(registry_bridge_guard_trips_total{${sel}}[5m]))`, '{{source}} {{guard}}']]],
    ['Refused services', 'timeseries', [[`sum by (source, reason) (increase(registry_bridge_refused_total{${sel}}[5m]))`, '{{source}} {{reason}}']]],
    ['Dropped fields and endpoints', 'timeseries', [[`sum by (reason) (increase(registry_bridge_translation_drops_total{${sel}}[5m]))`, '{{reason}}']]],
    ['Dead letters', 'timeseries', [[`sum by (reason) (increase(registry_bridge_dead_letters_total{${sel}}[5m]))`, '{{reason}}']]],
  ]],
  ['Queues and leadership', [
    ['Queue depth', 'timeseries', [[`sum by (queue, state) (registry_bridge_queue_depth{${sel}})`, '{{queue}} {{state}}']]],
    ['Ingest messages', 'timeseries', [[`sum by (type, outcome) (rate(registry_bridge_ingest_messages_total{${sel}}[5m]))`, '{{type}} {{outcome}}']], 'ops'],
    ['Writer leader', 'stat', [[`sum(registry_bridge_writer_leader{${sel}})`, 'leaders']]],
    ['Reconcile duration p99', 'timeseries', [[`histogram_quantile(0.99, sum by (le, action) (rate(registry_bridge_reconcile_seconds_bucket{${sel}}[5m])))`, '{{action}}']], 's'],
  ]],
  ['Collectors', [
    ['Changes seen', 'timeseries', [[`sum by (source) (rate(registry_bridge_collector_changes_total{${sel}}[5m]))`, '{{source}}']], 'ops'],
    ['Collector errors', 'timeseries', [[`sum by (source, op) (rate(registry_bridge_collector_errors_total{${sel}}[5m]))`, '{{source}} {{op}}']], 'ops'],
    ['Records sent', 'timeseries', [[`sum by (source, type) (rate(registry_bridge_collector_records_sent_total{${sel}}[5m]))`, '{{source}} {{type}}']], 'ops'],
    ['Owned services per replica', 'timeseries', [[`sum by (pod, source) (registry_bridge_collector_owned_services{${sel}})`, '{{pod}} {{source}}']]],
    ['Consul blocking watches', 'timeseries', [[`sum by (pod) (registry_bridge_consul_blocking_watches{${sel}})`, '{{pod}}']]],
    ['Eureka full fetches and hash mismatches', 'timeseries', [
      [`sum by (source) (increase(registry_bridge_eureka_full_fetches_total{${sel}}[5m]))`, 'full {{source}}'],
      [`sum by (source) (increase(registry_bridge_eureka_hash_mismatches_total{${sel}}[5m]))`, 'mismatch {{source}}'],
    ]],
    ['Eureka self-preservation', 'stat', [[`max by (source) (registry_bridge_eureka_self_preservation{${sel}})`, '{{source}}']]],
    ['Cloud Map budget used', 'timeseries', [[`max by (source, api) (registry_bridge_cloudmap_budget_used_ratio{${sel}})`, '{{source}} {{api}}']], 'percentunit'],
    ['Cloud Map throttles', 'timeseries', [[`sum by (source, api) (increase(registry_bridge_cloudmap_throttles_total{${sel}}[5m]))`, '{{source}} {{api}}']]],
  ]],
];

let id = 1;
let y = 0;
const panels = [];
for (const [title, list] of rows) {
  panels.push({ id: id++, type: 'row', title, collapsed: false, gridPos: { h: 1, w: 24, x: 0, y }, panels: [] });
  y += 1;
  list.forEach(([ptitle, type, targets, unit], i) => {
    const w = type === 'stat' ? 6 : 12;
    panels.push({
      id: id++,
      type,
      title: ptitle,
      datasource: { type: 'prometheus', uid: '${datasource}' },
      gridPos: { h: 8, w, x: (i % 2) * 12, y: y + Math.floor(i / 2) * 8 },
      fieldConfig: { defaults: { unit: unit ?? 'short' }, overrides: [] },
      options: {},
      targets: targets.map(([expr, legendFormat], j) => ({ refId: String.fromCharCode(65 + j), expr, legendFormat })),
    });
  });
  y += Math.ceil(list.length / 2) * 8;
}

const dashboard = {
  uid: 'registry-bridge',
  title: 'registry-bridge',
  tags: ['registry-bridge', 'istio'],
  timezone: 'browser',
  schemaVersion: 39,
  version: 1,
  refresh: '30s',
  time: { from: 'now-6h', to: 'now' },
  templating: {
    list: [
      { name: 'datasource', type: 'datasource', query: 'prometheus', label: 'Data source' },
      { name: 'namespace', type: 'query', datasource: { type: 'prometheus', uid: '${datasource}' }, query: 'label_values(registry_bridge_writer_leader, namespace)', includeAll: true, multi: true, label: 'Namespace' },
    ],
  },
  panels,
};
const text = `${JSON.stringify(dashboard, null, 2)}\n`;
if (process.argv.includes('--stdout')) process.stdout.write(text);
else {
  writeFileSync(out, text);
  console.log(`wrote ${out} (${panels.length} panels)`);
}
