import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parseAllDocuments, stringify } from 'yaml';

/** Helpers shared by the chart specs: render with the helm that scripts/tools.sh builds, parse, look up. */
export const WORKSPACE = resolve(__dirname, '../..');
export const CHART = join(WORKSPACE, 'deploy/helm/registry-bridge');
export const CI_VALUES = ['all-apps-values.yaml', 'cluster-wide-values.yaml'].map((f) => join(CHART, 'ci', f));
export const APPS = ['writer', 'collector-consul', 'collector-eureka', 'collector-cloudmap'] as const;
export type App = (typeof APPS)[number];

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [key: string]: unknown;
}

let helmPath: string | undefined;
/** The helm binary; builds it on first use (the nx `helm` target normally did already). */
export function helm(): string {
  helmPath ??= execFileSync('bash', [join(WORKSPACE, 'scripts/tools.sh'), 'helm'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
  return helmPath;
}

export interface RenderOptions {
  release?: string;
  namespace?: string;
  valuesFiles?: string[];
  /** Values as an object, written to a temp file (so nested lists need no --set escaping). */
  values?: Record<string, unknown>;
}

function helmArgs(cmd: string[], o: RenderOptions): string[] {
  const args = [...cmd];
  for (const f of o.valuesFiles ?? []) args.push('-f', f);
  if (o.values) {
    const dir = mkdtempSync(join(tmpdir(), 'rb-chart-'));
    const file = join(dir, 'values.yaml');
    writeFileSync(file, stringify(o.values));
    args.push('-f', file);
  }
  return args;
}

export function renderText(o: RenderOptions = {}): string {
  return execFileSync(helm(), helmArgs(['template', o.release ?? 'rb', CHART, '--namespace', o.namespace ?? 'registry-bridge'], o), {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

export function render(o: RenderOptions = {}): K8sObject[] {
  return parseAllDocuments(renderText(o))
    .map((d) => d.toJSON() as K8sObject | null)
    .filter((d): d is K8sObject => !!d);
}

/**
 * The chart's NOTES.txt as `helm install` prints it. `helm template` never renders NOTES and
 * `helm install --dry-run` needs a cluster, so a copy of the chart renders it through `tpl`.
 */
export function renderNotes(o: RenderOptions = {}): string {
  const copy = join(mkdtempSync(join(tmpdir(), 'rb-notes-')), 'chart');
  cpSync(CHART, copy, { recursive: true });
  cpSync(join(copy, 'templates/NOTES.txt'), join(copy, 'notes.txt'));
  writeFileSync(join(copy, 'templates/notes.yaml'), 'notes: {{ tpl (.Files.Get "notes.txt") . | quote }}\n');
  const args = helmArgs(['template', o.release ?? 'rb', copy, '--namespace', o.namespace ?? 'registry-bridge', '--show-only', 'templates/notes.yaml'], o);
  const out = execFileSync(helm(), args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return (parseAllDocuments(out)[0].toJSON() as { notes: string }).notes;
}

/** Renders expecting helm to refuse; returns its error output. */
export function renderError(o: RenderOptions): string {
  const res = spawnSync(helm(), helmArgs(['template', o.release ?? 'rb', CHART, '--namespace', o.namespace ?? 'registry-bridge'], o), { encoding: 'utf8' });
  if (res.status === 0) throw new Error('expected helm template to fail, it succeeded');
  return res.stderr;
}

export function find(objs: K8sObject[], kind: string, name?: string, namespace?: string): K8sObject[] {
  return objs.filter((o) => o.kind === kind && (name === undefined || o.metadata.name === name) && (namespace === undefined || o.metadata.namespace === namespace));
}

export function one(objs: K8sObject[], kind: string, name: string, namespace?: string): K8sObject {
  const hits = find(objs, kind, name, namespace);
  if (hits.length !== 1) throw new Error(`expected one ${kind} ${namespace ?? '*'}/${name}, found ${hits.length}: ${objs.map((o) => `${o.kind}/${o.metadata.name}`).join(', ')}`);
  return hits[0];
}

/** The rendered config file of an app (data["config.yaml"] of its ConfigMap), as text. */
export function configText(objs: K8sObject[], release: string, app: App): string {
  const cm = one(objs, 'ConfigMap', `${release}-registry-bridge-${app}`);
  return (cm['data'] as Record<string, string>)['config.yaml'];
}

export interface PodSpec {
  serviceAccountName: string;
  automountServiceAccountToken?: boolean;
  securityContext: Record<string, unknown>;
  containers: Array<{
    name: string;
    image: string;
    env?: Array<{ name: string; value?: string; valueFrom?: { fieldRef?: { fieldPath: string } } }>;
    securityContext: Record<string, unknown>;
    volumeMounts: Array<{ name: string; mountPath: string; readOnly?: boolean }>;
    startupProbe?: { httpGet: { path: string; port: string } };
    livenessProbe?: { httpGet: { path: string; port: string } };
    readinessProbe?: { httpGet: { path: string; port: string } };
    ports: Array<{ name: string; containerPort: number }>;
  }>;
  volumes: Array<{ name: string; secret?: { secretName: string; items?: Array<{ key: string; path: string }> }; configMap?: { name: string }; emptyDir?: unknown }>;
  topologySpreadConstraints?: unknown[];
}

export function podSpec(deployment: K8sObject): PodSpec {
  return (deployment['spec'] as { template: { spec: PodSpec } }).template.spec;
}

/**
 * Writes the secret files that a config references under `root`, mirroring what the pod's secret
 * mounts would provide, and returns the config text with the paths moved under `root`. Throws
 * when a referenced file is not under any secret mount of the pod (the pod could not read it).
 */
export function materializeSecretFiles(config: string, pod: PodSpec, root: string): string {
  const files = [...config.matchAll(/(?:file|caFile|certFile|keyFile): (\/[^\s]+)/g)].map((m) => m[1]);
  for (const file of files) {
    const c = pod.containers[0];
    const mount = c.volumeMounts.find((m) => file.startsWith(`${m.mountPath}/`));
    if (!mount) throw new Error(`${file} is referenced by the config but no volume is mounted above it`);
    const volume = pod.volumes.find((v) => v.name === mount.name);
    if (!volume?.secret) throw new Error(`${file} lies in volume ${mount.name}, which is not a Secret`);
    const full = join(root, file);
    mkdirSync(dirname(full), { recursive: true });
    writeFileSync(full, 'not-a-real-secret\n');
  }
  return config.replace(/(file|caFile|certFile|keyFile): (\/[^\s]+)/g, (_m, k: string, p: string) => `${k}: ${join(root, p)}`);
}

export function readText(rel: string): string {
  return readFileSync(join(WORKSPACE, rel), 'utf8');
}
