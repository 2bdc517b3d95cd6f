import { QUEUES, RecordProducer, ServiceRecordInput } from '@registry-bridge/contract';
import { KubeClient, KubeError, KubeObject } from '@registry-bridge/kube';
import { loadPeersEnv, PeersEnv } from '@registry-bridge/test-peers';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { CHART, CI_VALUES, configText, find, helm, K8sObject, one, podSpec, readText, render, RenderOptions, WORKSPACE } from './chart';

// The chart against the real API server: lint, server-side dry-run of every rendered object, then
// an install of the RBAC under which the built writer runs with a ServiceAccount token from the
// TokenRequest API through a full sync (create, update, delete of ServiceEntries and
// WorkloadEntries, Lease), shutdown and uninstall. A missing verb in the chart fails the sync.
jest.setTimeout(240_000);

const WRITER_MAIN = join(WORKSPACE, 'dist/apps/writer/main.js');
const id = randomBytes(3).toString('hex');
const releaseNs = `rb-dep-${id}`;
const meshNs = `rb-dep-${id}-mesh`;
const eurekaNs = `rb-dep-${id}-eu`;
const installation = `dep-${id}`;
const prefix = `{rbdep-${id}}`;
const release = 'rb';
const writerName = `${release}-registry-bridge-writer`;
const dir = mkdtempSync(join(tmpdir(), 'rb-deploy-it-'));

let peers: PeersEnv;
let admin: KubeClient;
let redis: Redis;
let queue: Queue;
let producer: RecordProducer;
let writer: ChildProcess | undefined;
const logs: string[] = [];
const namespaces = [releaseNs, meshNs, eurekaNs];

const kubectl = (...args: string[]) => execFileSync('kubectl', ['--kubeconfig', peers.kube.adminKubeconfig, ...args], { encoding: 'utf8' });

async function ensureNamespace(name: string): Promise<void> {
  try {
    await admin.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  } catch (err) {
    if (!(err instanceof KubeError && err.status === 409)) throw err;
  }
}

async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}\n${logs.slice(-30).join('')}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** A kubeconfig that authenticates as a ServiceAccount with a token from the TokenRequest API. */
function serviceAccountKubeconfig(sa: string): string {
  const token = kubectl('create', 'token', sa, '-n', releaseNs, '--duration', '1h').trim();
  const file = join(dir, `${sa}.kubeconfig`);
  writeFileSync(
    file,
    stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'peer', cluster: { server: peers.kube.server, 'certificate-authority': peers.raw['RB_KUBE_CA_FILE'] } }],
      users: [{ name: sa, user: { token } }],
      contexts: [{ name: 'sa', context: { cluster: 'peer', user: sa } }],
      'current-context': 'sa',
    }),
  );
  return file;
}

const canI = (kubeconfig: string, ...args: string[]) => spawnSync('kubectl', ['--kubeconfig', kubeconfig, 'auth', 'can-i', ...args], { encoding: 'utf8' }).stdout.trim();

const installValues = (): RenderOptions => ({
  release,
  namespace: releaseNs,
  values: {
    installation,
    externalRedis: { url: peers.redisUrl, prefix },
    writer: {
      defaults: { namespace: meshNs },
      sources: { 'eureka-a': { kind: 'eureka', namespace: eurekaNs, endpointMode: 'workloadEntry' } },
      deletion: { gracePeriodSeconds: 1, maxDeletes: 5, maxDeletePercent: 0, windowSeconds: 60, sourceSilenceSeconds: 60 },
      reconcile: { fullResyncSeconds: 5 },
      leaderElection: { leaseDurationSeconds: 6, renewDeadlineSeconds: 4, retryPeriodSeconds: 1 },
    },
    collectors: { consul: { sources: [{ name: 'consul-dc1', address: peers.consul.addr }] } },
  },
});

const record = (source: string, kind: 'consul' | 'eureka', service: string, revision: number, addrs: string[]): ServiceRecordInput => ({
  source: { name: source, kind },
  service,
  ports: [{ name: 'http', number: 8080, protocol: 'HTTP' }],
  endpoints: addrs.map((address, i) => ({ id: `${service}-${i}`, address, health: 'healthy' as const })),
  revision,
  observedAt: new Date().toISOString(),
});
const status = (source: string, kind: 'consul' | 'eureka') => producer.sourceStatus({ source: { name: source, kind }, reachable: true, observedAt: new Date().toISOString() });

type SE = KubeObject & { spec: { hosts: string[]; endpoints?: Array<{ address: string }> } };
const owned = `app.kubernetes.io/managed-by=registry-bridge,registry-bridge.io/installation=${installation}`;
const ses = (ns: string) => admin.list<SE>('networking.istio.io/v1', 'ServiceEntry', ns, owned);
const wes = (ns: string) => admin.list<KubeObject>('networking.istio.io/v1', 'WorkloadEntry', ns, owned);
const byService = async (ns: string, service: string) => (await ses(ns)).find((o) => o.metadata.annotations?.['registry-bridge.io/service'] === service);

beforeAll(async () => {
  if (!existsSync(WRITER_MAIN)) throw new Error(`${WRITER_MAIN} is missing: run \`npx nx build writer\` first`);
  peers = await loadPeersEnv({ peers: ['redis', 'kube'] });
  admin = KubeClient.fromOptions({ kubeconfig: peers.kube.adminKubeconfig, qps: 100, burst: 100, maxAttempts: 3, fieldManager: 'rb-deploy-test' });
  for (const ns of namespaces) await ensureNamespace(ns);
  redis = new Redis(peers.redisUrl, { maxRetriesPerRequest: null });
  queue = new Queue(QUEUES.ingest, { connection: redis, prefix });
  producer = new RecordProducer(queue);
});

afterAll(async () => {
  if (writer && writer.exitCode === null) writer.kill('SIGKILL');
  await queue?.close();
  if (redis) {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
  }
  for (const ns of namespaces) await admin?.delete('v1', 'Namespace', '', ns).catch(() => undefined);
});

describe('helm lint', () => {
  it.each([['default values', []], ...CI_VALUES.map((f) => [f.slice(CHART.length + 1), [f]] as [string, string[]])])('passes --strict with %s', (_n, files) => {
    const res = spawnSync(helm(), ['lint', '--strict', CHART, ...files.flatMap((f) => ['-f', f])], { encoding: 'utf8' });
    expect(res.stdout).toMatch(/1 chart\(s\) linted, 0 chart\(s\) failed/);
    expect(res.status).toBe(0);
  });
});

describe('server-side dry run against the real API server', () => {
  // No Prometheus Operator CRDs on the peer: these two kinds are checked by the unit tests only.
  const NO_CRD = new Set(['ServiceMonitor', 'PrometheusRule']);

  it('rejects an invalid object (the dry run validates)', async () => {
    const bad = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'bad', namespace: releaseNs }, spec: { replicas: 1, selector: { matchLabels: { a: 'b' } }, template: { metadata: { labels: { a: 'c' } }, spec: { containers: [] } } } };
    await expect(admin.apply(bad as KubeObject, { dryRun: true })).rejects.toThrow(/HTTP 422/);
  });

  it.each([
    ['default values', {}],
    ['ci/all-apps-values.yaml', { valuesFiles: [CI_VALUES[0]], values: { writer: { defaults: { namespace: meshNs }, sources: { 'eureka-prod': { namespace: eurekaNs }, 'legacy-dc': { kind: 'consul', namespace: meshNs } } } } }],
    ['ci/cluster-wide-values.yaml', { valuesFiles: [CI_VALUES[1]] }],
  ] as Array<[string, RenderOptions]>)('accepts every object rendered with %s', async (_n, opts) => {
    const objs = render({ release, namespace: releaseNs, ...opts });
    const targetNs = [...new Set(objs.map((o) => o.metadata.namespace).filter((n): n is string => !!n))];
    for (const ns of targetNs) {
      await ensureNamespace(ns);
      if (!namespaces.includes(ns) && ns !== 'istio-system') namespaces.push(ns);
    }
    const applied: string[] = [];
    for (const o of objs) {
      if (NO_CRD.has(o.kind)) continue;
      await admin.apply(o as KubeObject, { dryRun: true });
      applied.push(o.kind);
    }
    expect(applied).toEqual(expect.arrayContaining(['Deployment', 'ConfigMap', 'ServiceAccount', 'Service', 'PodDisruptionBudget']));
    expect(objs.filter((o) => !NO_CRD.has(o.kind))).toHaveLength(applied.length);
  });
});

describe('install, full sync under the chart ServiceAccount, shutdown, uninstall', () => {
  let objs: K8sObject[];
  let writerKubeconfig: string;
  const port = 19600 + Math.floor(Math.random() * 300);

  it('installs the rendered chart (RBAC for real)', async () => {
    objs = render(installValues());
    for (const o of objs) await admin.apply(o as KubeObject);
    const roles = find(objs, 'Role').map((r) => `${r.metadata.namespace}/${r.metadata.name}`).sort();
    expect(roles).toEqual([`${eurekaNs}/${writerName}`, `${meshNs}/${writerName}`, `${releaseNs}/${writerName}-leader-election`].sort());
  });

  it('the writer ServiceAccount can do exactly its verbs, the collector ServiceAccount nothing', () => {
    writerKubeconfig = serviceAccountKubeconfig(writerName);
    const can = (...a: string[]) => canI(writerKubeconfig, ...a);
    for (const verb of ['get', 'list', 'watch', 'create', 'patch', 'delete']) expect([verb, can(verb, 'serviceentries.networking.istio.io', '-n', meshNs)]).toEqual([verb, 'yes']);
    for (const verb of ['list', 'watch', 'create', 'patch', 'delete']) expect([verb, can(verb, 'workloadentries.networking.istio.io', '-n', eurekaNs)]).toEqual([verb, 'yes']);
    // ServiceEntries are read everywhere (host collisions with anyone's), written nowhere else
    for (const n of [releaseNs, 'default']) {
      for (const verb of ['list', 'watch']) expect([n, verb, can(verb, 'serviceentries.networking.istio.io', '-n', n)]).toEqual([n, verb, 'yes']);
      for (const verb of ['get', 'create', 'patch', 'delete']) expect([n, verb, can(verb, 'serviceentries.networking.istio.io', '-n', n)]).toEqual([n, verb, 'no']);
    }
    expect(can('update', 'serviceentries.networking.istio.io', '-n', meshNs)).toBe('no');
    expect(can('get', 'workloadentries.networking.istio.io', '-n', eurekaNs)).toBe('no');
    expect(can('list', 'workloadentries.networking.istio.io', '-n', 'default')).toBe('no');
    expect(can('create', 'events', '-n', meshNs)).toBe('yes');
    expect(can('create', 'leases.coordination.k8s.io', '-n', releaseNs)).toBe('yes');
    expect(can('update', `leases.coordination.k8s.io/${writerName}`, '-n', releaseNs)).toBe('yes');
    expect(can('update', 'leases.coordination.k8s.io/someone-elses', '-n', releaseNs)).toBe('no');
    expect(can('delete', `leases.coordination.k8s.io/${writerName}`, '-n', releaseNs)).toBe('no');
    expect(can('get', 'secrets', '-n', releaseNs)).toBe('no');
    const collector = serviceAccountKubeconfig(`${release}-registry-bridge-collector-consul`);
    expect(canI(collector, 'list', 'serviceentries.networking.istio.io', '-n', meshNs)).toBe('no');
    expect(canI(collector, 'get', 'configmaps', '-n', releaseNs)).toBe('no');
    expect(canI(collector, 'create', 'leases.coordination.k8s.io', '-n', releaseNs)).toBe('no');
  });

  it('runs the built writer with the rendered config and the pod env, and syncs through create, update and delete', async () => {
    const deployment = one(objs, 'Deployment', writerName);
    const pod = podSpec(deployment);
    const configFile = join(dir, 'config.yaml');
    writeFileSync(configFile, configText(objs, release, 'writer'));
    const env: NodeJS.ProcessEnv = { PATH: process.env['PATH'] };
    for (const e of pod.containers[0].env ?? []) {
      if (e.value !== undefined) env[e.name] = e.value;
      else if (e.valueFrom?.fieldRef?.fieldPath === 'metadata.name') env[e.name] = `${writerName}-5c6d7-x1y2z`;
    }
    // The only differences from the pod: where the files are, the ServiceAccount token arrives by
    // kubeconfig instead of the in-cluster mount, and the port is one free on this machine.
    Object.assign(env, { RB_CONFIG_FILE: configFile, RB__kubernetes__kubeconfig: writerKubeconfig, RB__http__port: String(port), RB__http__host: '127.0.0.1' });
    writer = spawn(process.execPath, [WRITER_MAIN], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    writer.stdout?.on('data', (d: Buffer) => logs.push(d.toString()));
    writer.stderr?.on('data', (d: Buffer) => logs.push(d.toString()));
    const statusOf = async () => (await (await fetch(`http://127.0.0.1:${port}/status`)).json()) as { leader: boolean; lastResync?: unknown };
    await waitFor('writer to lead', async () => (await statusOf()).leader && (await statusOf()).lastResync);
    const lease = await admin.get<KubeObject & { spec: { holderIdentity: string } }>('coordination.k8s.io/v1', 'Lease', releaseNs, writerName);
    expect(lease?.spec.holderIdentity).toBe(`${writerName}-5c6d7-x1y2z`);

    // create: inline ServiceEntries in the default namespace, WorkloadEntries in the Eureka source's namespace
    await status('consul-dc1', 'consul');
    await status('eureka-a', 'eureka');
    await producer.upsert(record('consul-dc1', 'consul', 'web', 1, ['10.0.0.1', '10.0.0.2']));
    await producer.upsert(record('consul-dc1', 'consul', 'gone', 1, ['10.0.1.1']));
    await producer.upsert(record('eureka-a', 'eureka', 'orders', 1, ['10.3.0.1', '10.3.0.2']));
    await waitFor('web and gone ServiceEntries', async () => (await byService(meshNs, 'web')) && byService(meshNs, 'gone'));
    await waitFor('two WorkloadEntries of orders', async () => (await wes(eurekaNs)).length === 2);
    expect((await byService(eurekaNs, 'orders'))?.spec.hosts).toEqual(['orders.eureka']);

    // update (patch) and delete a stale WorkloadEntry
    await producer.upsert(record('consul-dc1', 'consul', 'web', 2, ['10.0.0.1']));
    await producer.upsert(record('eureka-a', 'eureka', 'orders', 2, ['10.3.0.1']));
    await waitFor('web updated', async () => (await byService(meshNs, 'web'))?.spec.endpoints?.length === 1);
    await waitFor('stale WorkloadEntry deleted', async () => (await wes(eurekaNs)).length === 1);

    // delete a ServiceEntry: removed from a complete snapshot, after the grace period
    await producer.snapshot({ source: { name: 'consul-dc1', kind: 'consul' }, epoch: 1, complete: true, services: [{ service: 'web' }, { service: 'gone' }], observedAt: new Date().toISOString() });
    await producer.remove({ source: { name: 'consul-dc1', kind: 'consul' }, service: 'gone', revision: 2, observedAt: new Date().toISOString() });
    await status('consul-dc1', 'consul');
    await waitFor('gone deleted', async () => !(await byService(meshNs, 'gone')), 40_000);

    // Nothing was refused for lack of permission along the way.
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(metrics).not.toMatch(/registry_bridge_kube_requests_total\{[^}]*outcome="403"/);
    expect(metrics).toMatch(/registry_bridge_kube_requests_total\{verb="delete",kind="ServiceEntry",outcome="ok"\} [1-9]/);
    expect(metrics).toMatch(/registry_bridge_kube_requests_total\{verb="delete",kind="WorkloadEntry",outcome="ok"\} [1-9]/);
  });

  it('on SIGTERM exits cleanly, releases the Lease and deletes nothing', async () => {
    const before = (await ses(meshNs)).length + (await ses(eurekaNs)).length + (await wes(eurekaNs)).length;
    expect(before).toBe(3);
    const exited = new Promise<string>((r) => writer!.once('exit', (code, signal) => r(`${code}/${signal}`)));
    const t0 = Date.now();
    writer!.kill('SIGTERM');
    // NestJS shutdown hooks run, then Nest re-raises the signal (or the process exits 0).
    expect(['0/null', 'null/SIGTERM']).toContain(await exited);
    expect(Date.now() - t0).toBeLessThan(15_000);
    const lease = await admin.get<KubeObject & { spec: { holderIdentity?: string } }>('coordination.k8s.io/v1', 'Lease', releaseNs, writerName);
    expect(lease?.spec.holderIdentity ?? '').toBe('');
    expect((await ses(meshNs)).length + (await ses(eurekaNs)).length + (await wes(eurekaNs)).length).toBe(before);
  });

  it('uninstall leaves the ServiceEntries in place, labeled; the documented label-selector cleanup removes exactly them', async () => {
    // What `helm uninstall` does: delete every object of the release.
    for (const o of [...objs].reverse()) await admin.delete(o.apiVersion, o.kind, o.metadata.namespace ?? '', o.metadata.name);
    expect(await admin.get('v1', 'ServiceAccount', releaseNs, writerName)).toBeUndefined();
    const left = [...(await ses(meshNs)), ...(await ses(eurekaNs)), ...(await wes(eurekaNs))];
    expect(left).toHaveLength(3);
    for (const o of left) expect(o.metadata.labels).toMatchObject({ 'app.kubernetes.io/managed-by': 'registry-bridge', 'registry-bridge.io/installation': installation });

    // An object registry-bridge does not own, in the same namespace, must survive the cleanup.
    await admin.create({ apiVersion: 'networking.istio.io/v1', kind: 'ServiceEntry', metadata: { name: 'hand-made', namespace: meshNs }, spec: { hosts: ['hand.example'], ports: [{ number: 80, name: 'http', protocol: 'HTTP' }], resolution: 'DNS' } } as KubeObject);
    const line = readText('docs/deploy.md')
      .split('\n')
      .find((l) => l.startsWith('kubectl delete serviceentries'));
    expect(line).toBeDefined();
    const args = line!.replace('INSTALLATION', installation).split(/\s+/).slice(1);
    kubectl(...args);
    expect([...(await ses(meshNs)), ...(await ses(eurekaNs)), ...(await wes(eurekaNs))]).toEqual([]);
    expect(await admin.get('networking.istio.io/v1', 'ServiceEntry', meshNs, 'hand-made')).toBeDefined();
  });
});
