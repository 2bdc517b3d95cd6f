import Ajv from 'ajv';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { writerConfigSchema } from '@registry-bridge/config';
import { CHART, CI_VALUES, find, K8sObject, one, PodSpec, podSpec, readText, render, renderError, WORKSPACE } from './chart';

// Chart rules that need no cluster: values schema, hardening, RBAC shape, docs, generated files.

const values = parse(readText('deploy/helm/registry-bridge/values.yaml')) as Record<string, unknown>;
const schema = JSON.parse(readText('deploy/helm/registry-bridge/values.schema.json')) as Record<string, unknown>;
const validate = new Ajv({ strict: false, allErrors: true }).compile(schema);

type Tree = Record<string, unknown>;
const isTree = (v: unknown): v is Tree => typeof v === 'object' && v !== null && !Array.isArray(v);
function merge(a: Tree, b: Tree): Tree {
  const out: Tree = { ...a };
  for (const [k, v] of Object.entries(b)) out[k] = isTree(v) && isTree(out[k]) ? merge(out[k] as Tree, v) : v;
  return out;
}
const errorsOf = (over: Tree) => (validate(merge(values, over)) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message} ${JSON.stringify(e.params)}`));

describe('values.schema.json', () => {
  it('accepts the defaults and every ci values file', () => {
    expect(errorsOf({})).toEqual([]);
    for (const f of CI_VALUES) expect(errorsOf(parse(readText(f.slice(WORKSPACE.length + 1))) as Tree)).toEqual([]);
  });

  it.each([
    ['writer.replica', { writer: { replica: 3 } }, 'replica'],
    ['collectors.kafka', { collectors: { kafka: { enabled: true } } }, 'kafka'],
    ['externalRedis.sentinel.master', { externalRedis: { sentinel: { master: 'm' } } }, 'master'],
    ['writer.defaults.namespce', { writer: { defaults: { namespce: 'x' } } }, 'namespce'],
    ['writer.sources.x.endpointmode', { writer: { sources: { x: { kind: 'consul', endpointmode: 'inline' } } } }, 'endpointmode'],
    ['collectors.consul.sources[0].adress', { collectors: { consul: { sources: [{ name: 'c', adress: 'http://c:8500' }] } } }, 'adress'],
    ['collectors.eureka.autoscaling.max', { collectors: { eureka: { autoscaling: { max: 3 } } } }, 'max'],
    ['metrics.serviceMonitor.enable', { metrics: { serviceMonitor: { enable: true } } }, 'enable'],
  ])('rejects the typo %s', (_name, over, key) => {
    expect(errorsOf(over).join('\n')).toMatch(new RegExp(`additionalProperty":"${key}"`));
  });

  it.each([
    ['a password in the Redis URL', { externalRedis: { url: 'redis://:hunter2@redis:6379' } }],
    ['an unknown Redis mode', { externalRedis: { mode: 'replicated' } }],
    ['a source name that is no DNS label', { collectors: { consul: { sources: [{ name: 'Consul_DC1' }] } } }],
    ['an unknown endpoint mode', { writer: { defaults: { endpointMode: 'sidecar' } } }],
    ['redis settings inside a collector config block', { collectors: { consul: { config: { redis: { url: 'redis://x' } } } } }],
  ])('rejects %s', (_name, over) => {
    expect(errorsOf(over).length).toBeGreaterThan(0);
  });

  it('is enforced by helm itself', () => {
    expect(renderError({ values: { writer: { replica: 3 } } })).toMatch(/additional properties 'replica' not allowed/);
  });

  // zod 4 wraps objects in prefault/default/pipe; unwrap to the object's keys.
  const keysOf = (t: unknown): string[] => {
    let cur = t as { shape?: Record<string, unknown>; _zod: { def: { innerType?: unknown; in?: unknown; valueType?: unknown } } };
    for (let i = 0; i < 10 && !cur.shape; i++) cur = (cur._zod.def.innerType ?? cur._zod.def.in ?? cur._zod.def.valueType) as typeof cur;
    return Object.keys(cur.shape ?? {}).sort();
  };
  const schemaKeys = (...path: string[]) => {
    let node = schema as Tree;
    for (const p of path) node = p === '*' ? (node['additionalProperties'] as Tree) : ((node['properties'] as Tree)[p] as Tree);
    return Object.keys(node['properties'] as Tree).sort();
  };

  it.each(['reconcile', 'deletion', 'defaults'])('writer.%s has exactly the keys of the writer config schema', (block) => {
    expect(schemaKeys('writer', block)).toEqual(keysOf(writerConfigSchema.shape[block as keyof typeof writerConfigSchema.shape]));
  });

  it('writer.sources entries have exactly the keys of a writer source', () => {
    expect(schemaKeys('writer', 'sources', '*')).toEqual(keysOf(writerConfigSchema.shape.sources));
  });
});

describe('values.yaml documentation', () => {
  it('documents every value with a helm-docs `# --` comment (on it or on a parent)', () => {
    const lines = readText('deploy/helm/registry-bridge/values.yaml').split('\n');
    const undocumented: string[] = [];
    const stack: Array<{ indent: number; key: string; documented: boolean }> = [];
    lines.forEach((line, i) => {
      const m = /^( *)([A-Za-z][\w.-]*):(.*)$/.exec(line);
      if (!m) return;
      const indent = m[1].length;
      while (stack.length && stack[stack.length - 1].indent >= indent) stack.pop();
      let j = i - 1;
      while (j >= 0 && /^\s*#/.test(lines[j]) && !/^\s*# --/.test(lines[j])) j--;
      const documented = (j >= 0 && /^\s*# --/.test(lines[j])) || stack.some((s) => s.documented);
      const next = lines.slice(i + 1).find((l) => l.trim() && !/^\s*#/.test(l)) ?? '';
      const hasChildren = m[3].trim() === '' && /^( *)[A-Za-z]/.test(next) && next.search(/\S/) > indent;
      const path = [...stack.map((s) => s.key), m[2]].join('.');
      if (!hasChildren && !documented) undocumented.push(path);
      stack.push({ indent, key: m[2], documented });
    });
    expect(undocumented).toEqual([]);
  });
});

describe('hardening and RBAC of the rendered chart', () => {
  const all = render({ valuesFiles: [CI_VALUES[0]] });
  const deployments = find(all, 'Deployment');

  it.each(deployments.map((d) => [d.metadata.name, d] as const))('%s: non-root, no escalation, read-only root, drop ALL, seccomp, probes', (_n, d) => {
    const pod = podSpec(d);
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
    const c = pod.containers[0];
    expect(c.securityContext).toMatchObject({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, runAsNonRoot: true, capabilities: { drop: ['ALL'] } });
    expect(c.startupProbe?.httpGet.path).toBe('/health/live');
    expect(c.livenessProbe?.httpGet.path).toBe('/health/live');
    expect(c.readinessProbe?.httpGet.path).toBe('/health/ready');
    expect(c.ports).toEqual([{ name: 'http', containerPort: 8080, protocol: 'TCP' }]);
    // The only writable place is an emptyDir.
    expect(pod.volumes.find((v) => v.name === 'tmp')?.emptyDir).toBeDefined();
    expect(pod.topologySpreadConstraints).toHaveLength(2);
    // No inline secrets: every env var is a literal non-secret or a reference.
    for (const e of c.env ?? []) expect(e.name).not.toMatch(/PASSWORD|TOKEN|SECRET/i);
  });

  it.each(deployments.map((d) => [d.metadata.name, d] as const))('%s: V8 old space capped well under the memory limit', (_n, d) => {
    const c = podSpec(d).containers[0] as PodSpec['containers'][number] & { resources: { limits: { memory: string } } };
    const options = c.env?.find((e) => e.name === 'NODE_OPTIONS')?.value ?? '';
    const oldSpace = Number(/--max-old-space-size=(\d+)/.exec(options)?.[1]);
    const limitMi = Number(/^(\d+)Mi$/.exec(c.resources.limits.memory)?.[1]);
    // Code, buffers and the young generation live outside the old space: leave them a quarter.
    expect(oldSpace).toBeGreaterThan(0);
    expect(oldSpace).toBeLessThanOrEqual(limitMi * 0.75);
  });

  it('collectors: own ServiceAccount, no token mounted, bound to no Role at all', () => {
    const bindings = [...find(all, 'RoleBinding'), ...find(all, 'ClusterRoleBinding')];
    const subjects = bindings.flatMap((b) => (b['subjects'] as Array<{ name: string }>).map((s) => s.name));
    for (const kind of ['consul', 'eureka', 'cloudmap']) {
      const name = `rb-registry-bridge-collector-${kind}`;
      const sa = one(all, 'ServiceAccount', name);
      expect(sa['automountServiceAccountToken']).toBe(false);
      const pod = podSpec(one(all, 'Deployment', name));
      expect(pod.serviceAccountName).toBe(name);
      expect(pod.automountServiceAccountToken).toBe(false);
      expect(subjects).not.toContain(name);
    }
  });

  type Rule = { apiGroups: string[]; resources: string[]; verbs: string[]; resourceNames?: string[] };
  const verbsByResource = (objs: K8sObject[]) => {
    const out: Record<string, string[]> = {};
    for (const role of objs) for (const r of role['rules'] as Rule[]) for (const res of r.resources) out[res] = [...new Set([...(out[res] ?? []), ...r.verbs])].sort();
    return out;
  };

  it('writer: a Role per target namespace with the same verbs as deploy/manifests/writer-rbac.yaml, Lease rights only in its own namespace', () => {
    const roles = find(all, 'Role');
    expect(roles.map((r) => `${r.metadata.namespace}/${r.metadata.name}`).sort()).toEqual([
      'mesh-eureka/rb-registry-bridge-writer',
      'mesh-external/rb-registry-bridge-writer',
      'mesh-legacy/rb-registry-bridge-writer',
      'registry-bridge/rb-registry-bridge-writer-leader-election',
    ]);
    const plain = parseAllDocuments(readText('deploy/manifests/writer-rbac.yaml'))
      .map((d) => d.toJSON() as K8sObject)
      .filter((o) => o.kind === 'Role');
    expect(verbsByResource(roles)).toEqual(verbsByResource(plain));
    expect(verbsByResource(roles)).toEqual({
      serviceentries: ['create', 'delete', 'get', 'list', 'patch', 'watch'],
      workloadentries: ['create', 'delete', 'list', 'patch', 'watch'],
      events: ['create', 'patch'],
      leases: ['create', 'get', 'update'],
    });
    // read-only, cluster-wide: hosts of ServiceEntries anywhere (host collisions), nothing else
    const crs = find(all, 'ClusterRole');
    expect(crs.map((r) => r.metadata.name)).toEqual([expect.stringMatching(/^rb-registry-bridge-writer-read-serviceentries/)]);
    expect(verbsByResource(crs)).toEqual({ serviceentries: ['list', 'watch'] });
  });

  it('writer: cluster-wide only when asked, and then one ClusterRole without Lease rights', () => {
    const cw = render({ valuesFiles: [CI_VALUES[1]] });
    const [cr] = find(cw, 'ClusterRole');
    expect(verbsByResource([cr])).toEqual({ serviceentries: ['create', 'delete', 'get', 'list', 'patch', 'watch'], workloadentries: ['create', 'delete', 'list', 'patch', 'watch'], events: ['create', 'patch'] });
    expect(find(cw, 'Role').map((r) => r.metadata.name)).toEqual(['rb-registry-bridge-writer-leader-election']);
  });

  it('NetworkPolicy: egress only to DNS, Redis and the app\'s own peer (API server or registry)', () => {
    const ports = (name: string) =>
      ((one(all, 'NetworkPolicy', name)['spec'] as { egress: Array<{ ports: Array<{ port: number }> }> }).egress).map((e) => [...new Set(e.ports.map((p) => p.port))]);
    expect(ports('rb-registry-bridge-writer')).toEqual([[53], [6379, 26379], [6443]]);
    expect(ports('rb-registry-bridge-collector-consul')).toEqual([[53], [6379, 26379], [8500, 8501]]);
    expect(ports('rb-registry-bridge-collector-cloudmap')).toEqual([[53], [6379, 26379], [443]]);
  });

  it('HPA only for collectors; ServiceMonitor and PrometheusRule only when enabled', () => {
    expect(find(all, 'HorizontalPodAutoscaler').map((h) => h.metadata.name).sort()).toEqual(['rb-registry-bridge-collector-cloudmap', 'rb-registry-bridge-collector-consul']);
    const consul = one(all, 'Deployment', 'rb-registry-bridge-collector-consul');
    expect((consul['spec'] as { replicas?: number }).replicas).toBeUndefined(); // the HPA owns it
    expect(find(all, 'ServiceMonitor')).toHaveLength(4);
    expect(find(all, 'PrometheusRule')).toHaveLength(1);
    const defaults = render();
    expect(find(defaults, 'ServiceMonitor')).toEqual([]);
    expect(find(defaults, 'PrometheusRule')).toEqual([]);
    expect(find(defaults, 'HorizontalPodAutoscaler')).toEqual([]);
  });

  it('writer runs 2 replicas by default with a PDB', () => {
    const defaults = render();
    expect((one(defaults, 'Deployment', 'rb-registry-bridge-writer')['spec'] as { replicas: number }).replicas).toBe(2);
    expect((one(defaults, 'PodDisruptionBudget', 'rb-registry-bridge-writer')['spec'] as { maxUnavailable: number }).maxUnavailable).toBe(1);
  });
});

describe('generated files', () => {
  it('deploy/manifests/registry-bridge.yaml is what the chart renders now (else: bash deploy/render-manifests.sh)', () => {
    const fresh = execFileSync('bash', [join(WORKSPACE, 'deploy/render-manifests.sh'), '--stdout'], { encoding: 'utf8' });
    expect(readText('deploy/manifests/registry-bridge.yaml')).toBe(fresh);
  });

  it('the kustomize base lists only files that exist', () => {
    const k = parse(readText('deploy/manifests/kustomization.yaml')) as { resources: string[] };
    expect(k.resources.length).toBeGreaterThan(0);
    for (const r of k.resources) expect(existsSync(join(WORKSPACE, 'deploy/manifests', r))).toBe(true);
  });

  it('Chart.yaml appVersion is the workspace version the images are tagged with', () => {
    const chart = parse(readText('deploy/helm/registry-bridge/Chart.yaml')) as { appVersion: string };
    expect(chart.appVersion).toBe((JSON.parse(readText('package.json')) as { version: string }).version);
    expect(existsSync(join(CHART, 'values.schema.json'))).toBe(true);
  });
});

