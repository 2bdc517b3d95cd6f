// Issue 18, item 4 (first part): the chart installed from the local OCI registry into the
// single-node cluster of scripts/peers/node.sh, with the real registries reachable from the pods.
// Ready is the kubelet's verdict from the chart's probes; ServiceEntries are written by the
// in-cluster writer under the chart's ServiceAccount and RBAC.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createInterface } from 'node:readline';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { WORKSPACE } from './support/images';

// Builds, pulls and rollouts take minutes on a loaded 2-core machine (set here: the Nx executor
// ignores testTimeout in the project config).
jest.setTimeout(300_000);

const sh = (args: string[]) => execFileSync('bash', args, { cwd: WORKSPACE, encoding: 'utf8', maxBuffer: 64 << 20 }).trim();
const id = Date.now().toString(36).slice(-6);
const NS = `rb-deploy-${id}`;
const MESH_NS = `mesh-${id}`;
const RELEASE = 'rb';
// Pods reach the loopback peers at the bridge address (scripts/peers/node.sh DNATs these ports).
const BRIDGE = '10.244.0.1';
const CONSUL_SERVICE = `deploy${id}-orders`;
const EUREKA_APP = `DEPLOY${id.toUpperCase()}-BILLING`;
// More Consul services, for the replicas of a scaled-out collector to share. Owners are chosen by
// rendezvous hashing over random pod names: with 9 services one of 3 replicas owned none in about
// 8% of runs (3·(2/3)^9) and the spread assertion waited forever; with 25 it is about 1 in 10,000.
const SPREAD = Array.from({ length: 24 }, (_, i) => `deploy${id}-s${i}`);
// Registered while the writer's leader is gone.
const LATE = `deploy${id}-late`;
// A second installation, for helm uninstall with uninstall.deleteWrittenResources.
const RELEASE_B = 'rbb';
const NS_B = `rb-deploy-${id}-b`;
const MESH_NS_B = `mesh-${id}-b`;
// Registered while the node is drained.
const DRAINED = `deploy${id}-drained`;
// Services whose instances come and go during the rolling upgrade (one instance of each stays).
const CHURN = Array.from({ length: 3 }, (_, i) => `deploy${id}-churn${i}`);
const CHURN_APP = `DEPLOY${id.toUpperCase()}-CHURN`;
// A Cloud Map namespace and service in moto, for this run only; the collector reads it through the
// DNAT at the bridge address with credentials from a Secret.
const CLOUDMAP_NS = `deploy${id}.cloudmap`;
const CLOUDMAP_HOST = `payments.${CLOUDMAP_NS}`;
/** moto's Cloud Map API (AWS JSON 1.1; moto takes the region from the credential scope, checks no signature). */
async function cloudMap<T>(action: string, body: Record<string, unknown>): Promise<T> {
  const res = await fetch('http://127.0.0.1:15000/', {
    method: 'POST',
    headers: {
      'content-type': 'application/x-amz-json-1.1',
      'x-amz-target': `Route53AutoNaming_v20170314.${action}`,
      authorization: 'AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/servicediscovery/aws4_request, SignedHeaders=host, Signature=0',
    },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`moto ${action}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}
const cloudMapIds: { namespace?: string; service?: string } = {};
const consulRegister = (name: string, i: number, instance = 1) =>
  fetch(`http://127.0.0.1:18500/v1/agent/service/register`, {
    method: 'PUT',
    body: JSON.stringify({ ID: `${name}-${instance}`, Name: name, Address: `192.0.2.${30 + i}`, Port: 8080 + instance }),
  });
const consulDeregister = (name: string, instance = 1) => fetch(`http://127.0.0.1:18500/v1/agent/service/deregister/${name}-${instance}`, { method: 'PUT' });
const eurekaRegister = (app: string, instanceId: string, ip: string) =>
  fetch(`http://127.0.0.1:18761/eureka/apps/${app}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      instance: {
        instanceId,
        hostName: ip,
        app,
        ipAddr: ip,
        status: 'UP',
        port: { $: 8080, '@enabled': 'true' },
        // No heartbeats from the test: a lease longer than the suite keeps Eureka from evicting it.
        leaseInfo: { durationInSecs: 3600, renewalIntervalInSecs: 30 },
        dataCenterInfo: { '@class': 'com.netflix.appinfo.InstanceInfo$DefaultDataCenterInfo', name: 'MyOwn' },
      },
    }),
  });
const eurekaDeregister = (app: string, instanceId: string) => fetch(`http://127.0.0.1:18761/eureka/apps/${app}/${instanceId}`, { method: 'DELETE' });

interface Pod {
  metadata: { name: string; labels: Record<string, string> };
  spec: { serviceAccountName: string; containers: Array<{ image: string; readinessProbe?: { httpGet: { path: string } }; livenessProbe?: { httpGet: { path: string } } }> };
  status: { conditions?: Array<{ type: string; status: string }> };
}

let kubeconfig: string;
let helm: string;
let registry: string;
let values: Record<string, unknown> & { collectors: Record<string, Record<string, unknown> & { sources: Array<Record<string, unknown>> }> };
const valuesFile = join(mkdtempSync(join(tmpdir(), 'rb-install-')), 'values.yaml');
const kubectl = (...args: string[]) => execFileSync('kubectl', ['--kubeconfig', kubeconfig, ...args], { encoding: 'utf8', maxBuffer: 64 << 20 });
const json = <T>(...args: string[]) => JSON.parse(kubectl(...args, '-o', 'json')) as T;
const pods = () => json<{ items: Pod[] }>('-n', NS, 'get', 'pods').items;
const ready = (p: Pod) => p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
const component = (p: Pod) => p.metadata.labels['app.kubernetes.io/component'];

async function until<T>(what: string, probe: () => T | undefined | false, timeoutMs = 150_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 1000));
  }
}

/** Makes the Consul agent unreachable from the pods (and back): a reset for every packet of theirs
 *  to it, open connections included (a removed DNAT would leave those running). */
function consulFromPods(reachable: boolean) {
  execFileSync('iptables', [reachable ? '-D' : '-I', 'INPUT', '-s', '10.244.0.0/24', '-d', '127.0.0.1', '-p', 'tcp', '--dport', '18500', '-j', 'REJECT', '--reject-with', 'tcp-reset']);
}

/** helm install/upgrade of the chart as a user pulls it, from the local OCI registry. */
function helmFromRegistry(verb: 'install' | 'upgrade') {
  writeFileSync(valuesFile, stringify(values));
  execFileSync(helm, [verb, RELEASE, `oci://${registry}/charts/registry-bridge`, '--plain-http', '--kubeconfig', kubeconfig, '-n', NS, '-f', valuesFile], { encoding: 'utf8' });
}

type SE = { spec: { hosts: string[]; endpoints?: Array<{ address: string }> }; metadata: { name: string; resourceVersion: string; labels: Record<string, string>; managedFields: Array<{ manager: string }> } };
const serviceEntries = () => json<{ items: SE[] }>('-n', MESH_NS, 'get', 'serviceentries').items;

beforeAll(async () => {
  sh(['scripts/peers/registry.sh', 'up']);
  sh(['scripts/peers/registry.sh', 'push']);
  sh(['scripts/peers/node.sh', 'up']);
  kubeconfig = sh(['scripts/peers/node.sh', 'env']).replace(/^RB_NODE_KUBECONFIG=/, '');
  helm = sh(['scripts/tools.sh', 'helm']);
  registry = sh(['scripts/peers/registry.sh', 'env']).replace(/^RB_OCI_REGISTRY=/, '');
  // One service in each registry, for this run only (the peers are shared).
  for (const [i, name] of [CONSUL_SERVICE, ...SPREAD].entries()) expect((await consulRegister(name, i)).status).toBe(200);
  expect((await eurekaRegister(EUREKA_APP, `${EUREKA_APP}-1`, '192.0.2.20')).status).toBe(204);
  const op = await cloudMap<{ OperationId: string }>('CreateHttpNamespace', { Name: CLOUDMAP_NS });
  const done = await cloudMap<{ Operation: { Status: string; Targets: { NAMESPACE: string } } }>('GetOperation', { OperationId: op.OperationId });
  expect(done.Operation.Status).toBe('SUCCESS');
  cloudMapIds.namespace = done.Operation.Targets.NAMESPACE;
  cloudMapIds.service = (await cloudMap<{ Service: { Id: string } }>('CreateService', { Name: 'payments', NamespaceId: cloudMapIds.namespace })).Service.Id;
  await cloudMap('RegisterInstance', { ServiceId: cloudMapIds.service, InstanceId: 'payments-1', Attributes: { AWS_INSTANCE_IPV4: '192.0.2.60', AWS_INSTANCE_PORT: '8080' } });
  kubectl('create', 'namespace', NS);
  kubectl('create', 'namespace', MESH_NS);
  // AWS credentials through a Secret, as docs/deploy.md shows (moto accepts any).
  kubectl('-n', NS, 'create', 'secret', 'generic', 'aws-credentials', '--from-literal=access-key-id=testing', '--from-literal=secret-access-key=testing');
  const image = { image: { registry } };
  values = {
      installation: `deploy-${id}`,
      externalRedis: { url: `redis://${BRIDGE}:16379`, prefix: `{rb-deploy-${id}}` },
      // The pods reach the peers through DNAT to the host's loopback, which NetworkPolicy egress
      // peers cannot describe; the policies are proven by the chart's own specs.
      networkPolicy: { enabled: false },
      writer: { ...image, defaults: { namespace: MESH_NS, allowedHostSuffixes: ['.consul', '.eureka', '.cloudmap'] } },
      collectors: {
        consul: { ...image, replicas: 1, sources: [{ name: 'consul-dc1', address: `http://${BRIDGE}:18500`, filters: { allow: [`deploy${id}-*`] } }] },
        cloudmap: {
          ...image,
          enabled: true,
          replicas: 1,
          sources: [{ name: 'cloudmap-a', region: 'us-east-1', endpoint: `http://${BRIDGE}:15000`, namespaces: { names: [CLOUDMAP_NS] } }],
          extraEnv: [
            { name: 'AWS_ACCESS_KEY_ID', valueFrom: { secretKeyRef: { name: 'aws-credentials', key: 'access-key-id' } } },
            { name: 'AWS_SECRET_ACCESS_KEY', valueFrom: { secretKeyRef: { name: 'aws-credentials', key: 'secret-access-key' } } },
          ],
        },
        eureka: { ...image, enabled: true, replicas: 1, sources: [{ name: 'eureka-a', serviceUrls: [`http://${BRIDGE}:18761/eureka`], apps: { allow: [EUREKA_APP, CHURN_APP] } }] },
      },
  };
  helmFromRegistry('install');
}, 600_000);

afterAll(async () => {
  if (!kubeconfig) return;
  // A failed drain test must not leave the node unschedulable for the next suite.
  spawnSync('kubectl', ['--kubeconfig', kubeconfig, 'uncordon', 'rb-node']);
  // The last tests uninstall both releases; this is for a run that broke before them.
  for (const [release, ns] of [[RELEASE, NS], [RELEASE_B, NS_B]]) spawnSync(helm, ['uninstall', release, '--kubeconfig', kubeconfig, '-n', ns, '--wait', '--no-hooks']);
  spawnSync('kubectl', ['--kubeconfig', kubeconfig, 'delete', 'namespace', NS, MESH_NS, NS_B, MESH_NS_B, '--wait=false']);
  spawnSync('kubectl', ['--kubeconfig', kubeconfig, 'delete', 'clusterrole,clusterrolebinding', '-l', `app.kubernetes.io/instance=${RELEASE_B}`, '--ignore-not-found']);
  // Awaited: a request still in flight when this file's environment is torn down fails ("other side
  // closed") unhandled, and Jest charged each such failure to the next file's running test.
  const cleanups: Promise<unknown>[] = [];
  for (const name of [CONSUL_SERVICE, ...SPREAD, LATE, DRAINED]) cleanups.push(consulDeregister(name));
  for (const name of CHURN) for (const n of [1, 2, 3]) cleanups.push(consulDeregister(name, n));
  cleanups.push(eurekaDeregister(EUREKA_APP, `${EUREKA_APP}-1`));
  // moto: the instance, then its service, then the namespace.
  if (cloudMapIds.service) {
    const { service, namespace } = cloudMapIds;
    cleanups.push(
      cloudMap('DeregisterInstance', { ServiceId: service, InstanceId: 'payments-1' })
        .then(() => cloudMap('DeleteService', { Id: service }))
        .then(() => cloudMap('DeleteNamespace', { Id: namespace })),
    );
  }
  for (const n of [1, 2, 3]) cleanups.push(eurekaDeregister(CHURN_APP, `${CHURN_APP}-${n}`));
  // Best effort: a registry that is gone by now must not fail the suite.
  await Promise.allSettled(cleanups);
});

describe('the chart on a real node', () => {
  it('has every pod Ready because the kubelet called the chart probes and they passed', async () => {
    const all = await until('every pod Ready', () => {
      const p = pods();
      return p.length === 5 && p.every(ready) && p;
    });
    expect(all.map(component).sort()).toEqual(['collector-cloudmap', 'collector-consul', 'collector-eureka', 'writer', 'writer']);
    for (const p of all) {
      expect(p.spec.containers[0].readinessProbe?.httpGet.path).toBe('/health/ready');
      expect(p.spec.containers[0].livenessProbe?.httpGet.path).toBe('/health/live');
    }
    // Readiness starts False and only the kubelet's prober turns it True; the containers were
    // started by that kubelet (not a stand-in that patches pod status).
    const started = json<{ items: Array<{ reason: string; source?: { component?: string } }> }>('-n', NS, 'get', 'events');
    expect(started.items.some((e) => e.reason === 'Started' && e.source?.component === 'kubelet')).toBe(true);
  });

  it('takes a collector out of Ready while its registry is unreachable from the pod, and back when it returns', async () => {
    const consulPod = () => pods().find((p) => component(p) === 'collector-consul');
    consulFromPods(false);
    try {
      await until('the Consul collector not Ready', () => {
        const p = consulPod();
        return p && !ready(p);
      });
      // Not Ready means no traffic: the Service lists no ready endpoint for it.
      const slices = json<{ items: Array<{ endpoints?: Array<{ conditions: { ready: boolean } }> }> }>('-n', NS, 'get', 'endpointslices', '-l', 'kubernetes.io/service-name=rb-registry-bridge-collector-consul');
      expect(slices.items.flatMap((s) => s.endpoints ?? []).filter((e) => e.conditions.ready)).toEqual([]);
    } finally {
      consulFromPods(true);
    }
    await until('the Consul collector Ready again', () => {
      const p = consulPod();
      return p && ready(p);
    });
  });

  it('writes ServiceEntries for every registry from the in-cluster writer, under its ServiceAccount', async () => {
    const hosts = [`${CONSUL_SERVICE}.service.consul`, `${EUREKA_APP.toLowerCase()}.eureka`, CLOUDMAP_HOST];
    const ses = await until('a ServiceEntry per registry', () => {
      const items = serviceEntries();
      return hosts.every((h) => items.some((i) => i.spec.hosts.includes(h))) && items;
    });
    expect(new Set(ses.map((s) => s.metadata.labels['registry-bridge.io/registry']))).toEqual(new Set(['consul', 'eureka', 'cloudmap']));
    // The writer pods run as the chart's ServiceAccount, the only identity with write RBAC there.
    const writers = pods().filter((p) => component(p) === 'writer');
    expect(new Set(writers.map((p) => p.spec.serviceAccountName))).toEqual(new Set([`${RELEASE}-registry-bridge-writer`]));
    // `kubectl auth can-i` answers yes/no on stdout and exits 1 on no.
    const canWrite = (user: string) =>
      spawnSync('kubectl', ['--kubeconfig', kubeconfig, 'auth', 'can-i', 'create', 'serviceentries.networking.istio.io', '-n', MESH_NS, '--as', user], { encoding: 'utf8' }).stdout.trim();
    expect(canWrite(`system:serviceaccount:${NS}:${RELEASE}-registry-bridge-writer`)).toBe('yes');
    expect(canWrite(`system:serviceaccount:${NS}:${RELEASE}-registry-bridge-collector-consul`)).toBe('no');
  });

  it('has istiod, watching the node, give a sidecar the cluster and endpoint of every registry from those ServiceEntries', async () => {
    // The node's own istiod (scripts/peers/node.sh runs the peers' pilot-discovery against the
    // node's API server); tools/xds-probe connects as a sidecar in the mesh namespace would.
    const env = Object.fromEntries(
      sh(['scripts/peers/node.sh', 'istiod-env'])
        .split('\n')
        .filter((l) => /^[A-Z_]+=/.test(l))
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    );
    // host, the one instance's address, its port (consulRegister's 8080 + instance number)
    const want: Array<[string, string, number]> = [
      [`${CONSUL_SERVICE}.service.consul`, '192.0.2.30', 8081],
      [`${EUREKA_APP.toLowerCase()}.eureka`, '192.0.2.20', 8080],
      [CLOUDMAP_HOST, '192.0.2.60', 8080],
    ];
    type View = { clusters: Array<{ host: string; port: number; endpoints: Array<{ address: string }> }> };
    const probe = (): View =>
      JSON.parse(
        execFileSync(env['RB_XDS_PROBE_BIN'], ['-addr', env['RB_ISTIOD_XDS_ADDR'], '-namespace', MESH_NS, '-match', want.map(([h]) => h).join(','), '-timeout', '20s'], {
          encoding: 'utf8',
          maxBuffer: 64 << 20,
        }),
      ) as View;
    const view = await until('istiod serving each registry\'s cluster with its endpoint', () => {
      const v = probe();
      return want.every(([h, a]) => v.clusters.some((c) => c.host === h && c.endpoints.some((e) => e.address === a))) && v;
    });
    for (const [h, a, port] of want) expect(view.clusters.filter((c) => c.host === h).map((c) => [c.port, c.endpoints.map((e) => e.address)])).toEqual([[port, [a]]]);
  });

  it('upgrades the Eureka collector on its own: the other pods and every ServiceEntry stay as they were', async () => {
    const before = await until('every pod Ready', () => {
      const p = pods();
      return p.length === 5 && p.every(ready) && p;
    });
    const uid = (p: Pod) => (p as unknown as { metadata: { uid: string } }).metadata.uid;
    const others = before.filter((p) => component(p) !== 'collector-eureka').map(uid).sort();
    const oldEureka = before.filter((p) => component(p) === 'collector-eureka').map(uid);
    const seVersions = Object.fromEntries(serviceEntries().map((e) => [e.metadata.name, e.metadata.resourceVersion]));
    values.collectors['eureka'].sources[0]['pollIntervalSeconds'] = 7;
    helmFromRegistry('upgrade');
    const after = await until('the new Eureka collector Ready and the old one gone', () => {
      const p = pods();
      const eureka = p.filter((x) => component(x) === 'collector-eureka');
      return eureka.length === 1 && !oldEureka.includes(uid(eureka[0])) && ready(eureka[0]) && p;
    });
    expect(after.filter((p) => component(p) !== 'collector-eureka').map(uid).sort()).toEqual(others);
    // The new collector re-sent the same records: the writer wrote nothing.
    expect(Object.fromEntries(serviceEntries().map((e) => [e.metadata.name, e.metadata.resourceVersion]))).toEqual(seVersions);
  });

  it('scales the Consul collector 1 → 3: the services spread over the replicas, no ServiceEntry deleted or rewritten', async () => {
    const hosts = [CONSUL_SERVICE, ...SPREAD].map((n) => `${n}.service.consul`);
    const before = await until('a ServiceEntry per Consul service', () => {
      const items = serviceEntries();
      return hosts.every((h) => items.some((i) => i.spec.hosts.includes(h))) && items;
    });
    const versions = Object.fromEntries(before.map((e) => [e.metadata.name, e.metadata.resourceVersion]));
    kubectl('-n', NS, 'scale', 'deployment', `${RELEASE}-registry-bridge-collector-consul`, '--replicas=3');
    // Kept in the values too, as an operator would: a later helm upgrade would set it back to 1.
    values.collectors['consul']['replicas'] = 3;
    const owned = async (p: Pod) => {
      const ip = (p as unknown as { status: { podIP: string } }).status.podIP;
      const text = await fetch(`http://${ip}:8080/metrics`).then((r) => r.text());
      return Number(/^registry_bridge_collector_owned_services\{source="consul-dc1"\} (\d+)/m.exec(text)?.[1] ?? 0);
    };
    // Each replica watches a share, and together they watch every service (the shared Consul may hold
    // other runs' services, filtered out by the source's allow list).
    let shares: number[] = [];
    await until(
      'three Ready replicas sharing the services',
      () => {
        const replicas = pods().filter((p) => component(p) === 'collector-consul' && ready(p));
        if (replicas.length !== 3) return false;
        void Promise.all(replicas.map(owned)).then((o) => (shares = o), () => undefined);
        return shares.length === 3 && shares.every((n) => n > 0) && shares.reduce((a, b) => a + b, 0) === hosts.length;
      },
      180_000,
    );
    expect(shares.reduce((a, b) => a + b, 0)).toBe(hosts.length);
    expect(Object.fromEntries(serviceEntries().map((e) => [e.metadata.name, e.metadata.resourceVersion]))).toEqual(versions);
  });

  it('fails the writer over: the leader pod deleted, the standby leads and writes a change made meanwhile, nothing deleted', async () => {
    const lease = () => json<{ spec: { holderIdentity?: string } }>('-n', NS, 'get', 'lease', `${RELEASE}-registry-bridge-writer`).spec.holderIdentity ?? '';
    const writers = pods().filter((p) => component(p) === 'writer').map((p) => p.metadata.name);
    const leader = lease();
    expect(writers).toContain(leader);
    const standby = writers.find((w) => w !== leader) as string;
    const before = serviceEntries().map((e) => e.metadata.name).sort();
    kubectl('-n', NS, 'delete', 'pod', leader, '--wait=false');
    expect((await consulRegister(LATE, 40)).status).toBe(200);
    await until('the standby holding the Lease', () => lease() === standby);
    const after = await until('the ServiceEntry of the service registered during the failover', () => {
      const items = serviceEntries();
      return items.some((i) => i.spec.hosts.includes(`${LATE}.service.consul`)) && items;
    });
    expect(after.map((e) => e.metadata.name).filter((n) => before.includes(n))).toEqual(before);
  });

  it('keeps a writer through a node drain: the PodDisruptionBudget refuses the second eviction, the remaining writer leads and writes; uncordon brings every pod back', async () => {
    const lease = () => json<{ spec: { holderIdentity?: string } }>('-n', NS, 'get', 'lease', `${RELEASE}-registry-bridge-writer`).spec.holderIdentity ?? '';
    const counts = () => {
      const p = pods();
      return { all: p.length, ready: p.filter(ready).length };
    };
    const before = await until('every pod Ready', () => {
      const c = counts();
      return c.all === c.ready && c;
    });
    const seNames = serviceEntries().map((e) => e.metadata.name).sort();
    // On one node an evicted writer cannot come back (cordoned), so after the first eviction the
    // budget (maxUnavailable 1) allows none: drain keeps retrying the second writer until it gives up.
    const drain = spawnSync('kubectl', ['--kubeconfig', kubeconfig, 'drain', 'rb-node', '--ignore-daemonsets', '--delete-emptydir-data', '--timeout=45s'], { encoding: 'utf8' });
    expect(drain.status).not.toBe(0);
    expect(drain.stderr).toMatch(/Cannot evict pod as it would violate the pod's disruption budget/);
    expect(drain.stderr).toMatch(/registry-bridge-writer/);
    const node = json<{ spec: { unschedulable?: boolean } }>('get', 'node', 'rb-node');
    expect(node.spec.unschedulable).toBe(true);
    const writers = pods().filter((p) => component(p) === 'writer');
    // One writer left running and Ready, its replacement Pending on the cordoned node.
    const phase = (p: Pod) => (p as unknown as { status: { phase: string } }).status.phase;
    const running = writers.filter((p) => phase(p) === 'Running' && ready(p) && !(p.metadata as { deletionTimestamp?: string }).deletionTimestamp);
    expect(writers.filter((p) => phase(p) === 'Pending')).toHaveLength(1);
    expect(running).toHaveLength(1);
    const pdb = json<{ status: { disruptionsAllowed: number; currentHealthy: number } }>('-n', NS, 'get', 'pdb', `${RELEASE}-registry-bridge-writer`);
    expect(pdb.status).toMatchObject({ disruptionsAllowed: 0, currentHealthy: 1 });
    const survivor = running[0].metadata.name;
    await until('the remaining writer holding the Lease', () => lease() === survivor);
    // The Consul collector keeps a replica too (its own budget), so a change still flows.
    expect((await consulRegister(DRAINED, 41)).status).toBe(200);
    await until('the ServiceEntry of the service registered during the drain', () => serviceEntries().some((i) => i.spec.hosts.includes(`${DRAINED}.service.consul`)));
    expect(serviceEntries().map((e) => e.metadata.name).filter((n) => seNames.includes(n))).toEqual(seNames);
    kubectl('uncordon', 'rb-node');
    await until(
      'every pod Ready again after uncordon',
      () => {
        const c = counts();
        return c.all === before.all && c.ready === before.all && c;
      },
      180_000,
    );
  });

  it('rolls every app to a new image tag under a steady change load: no wrongful delete, no lost change, counted at the API server', async () => {
    const deployed = (app: string) =>
      json<{ spec: { template: { spec: { containers: Array<{ image: string }> } } } }>('-n', NS, 'get', 'deployment', `${RELEASE}-registry-bridge-${app}`).spec.template.spec.containers[0].image;
    const NEW_TAG = `${deployed('writer').split(':').pop() as string}-r2`;
    // The same content under a second tag: only the image reference changes, the pods must be replaced.
    for (const app of ['writer', 'collector-consul', 'collector-eureka', 'collector-cloudmap']) {
      const from = deployed(app);
      execFileSync('skopeo', ['copy', '--quiet', '--src-tls-verify=false', '--dest-tls-verify=false', `docker://${from}`, `docker://${from.replace(/:[^:/]+$/, `:${NEW_TAG}`)}`]);
    }
    // Churned services: instance 1 stays, instances 2 and 3 come and go.
    const consulAddr = (k: number, n: number) => `198.51.100.${10 * (k + 1) + n}`;
    const eurekaAddr = (n: number) => `198.51.100.${100 + n}`;
    const consulInstance = (k: number, n: number) =>
      fetch('http://127.0.0.1:18500/v1/agent/service/register', { method: 'PUT', body: JSON.stringify({ ID: `${CHURN[k]}-${n}`, Name: CHURN[k], Address: consulAddr(k, n), Port: 8080 }) });
    const want = new Map<string, Set<string>>(CHURN.map((name, k) => [`${name}.service.consul`, new Set([consulAddr(k, 1)])]));
    want.set(`${CHURN_APP.toLowerCase()}.eureka`, new Set([eurekaAddr(1)]));
    for (const k of CHURN.keys()) expect((await consulInstance(k, 1)).status).toBe(200);
    expect((await eurekaRegister(CHURN_APP, `${CHURN_APP}-1`, eurekaAddr(1))).status).toBe(204);
    const converged = () => {
      const items = serviceEntries();
      return [...want].every(([host, addrs]) => {
        const se = items.find((i) => i.spec.hosts.includes(host));
        const got = new Set((se?.spec.endpoints ?? []).map((e) => e.address));
        return se !== undefined && got.size === addrs.size && [...addrs].every((a) => got.has(a));
      });
    };
    await until('the churned services written', converged, 180_000);
    process.stdout.write('rolling upgrade: churned services written, load and upgrade start\n');

    // Every event on the ServiceEntries, from the API server's own watch.
    const list = JSON.parse(kubectl('get', '--raw', `/apis/networking.istio.io/v1/namespaces/${MESH_NS}/serviceentries`)) as { metadata: { resourceVersion: string } };
    const watch = spawn('kubectl', ['--kubeconfig', kubeconfig, 'get', '--raw', `/apis/networking.istio.io/v1/namespaces/${MESH_NS}/serviceentries?watch=true&allowWatchBookmarks=false&resourceVersion=${list.metadata.resourceVersion}`]);
    const events: Array<{ type: string; object: SE }> = [];
    createInterface({ input: watch.stdout }).on('line', (line) => events.push(JSON.parse(line) as { type: string; object: SE }));

    // The load: every 300 ms one instance registered or deregistered, in Consul and Eureka in turn.
    let changes = 0;
    let loading = true;
    const load = (async () => {
      for (let step = 0; loading; step++) {
        const n = 2 + (Math.floor(step / 4) % 2);
        if (step % 4 === 3) {
          const set = want.get(`${CHURN_APP.toLowerCase()}.eureka`) as Set<string>;
          const id = `${CHURN_APP}-${n}`;
          if (set.has(eurekaAddr(n))) {
            expect((await eurekaDeregister(CHURN_APP, id)).status).toBe(200);
            set.delete(eurekaAddr(n));
          } else {
            expect((await eurekaRegister(CHURN_APP, id, eurekaAddr(n))).status).toBe(204);
            set.add(eurekaAddr(n));
          }
        } else {
          const k = step % 4;
          const set = want.get(`${CHURN[k]}.service.consul`) as Set<string>;
          if (set.has(consulAddr(k, n))) {
            expect((await consulDeregister(CHURN[k], n)).status).toBe(200);
            set.delete(consulAddr(k, n));
          } else {
            expect((await consulInstance(k, n)).status).toBe(200);
            set.add(consulAddr(k, n));
          }
        }
        changes++;
        await new Promise((r) => setTimeout(r, 300));
      }
    })();

    const uid = (p: Pod) => (p as unknown as { metadata: { uid: string } }).metadata.uid;
    const before = pods();
    const oldUids = new Set(before.map(uid));
    for (const block of [values['writer'] as Record<string, unknown>, ...Object.values(values.collectors)]) block['image'] = { registry, tag: NEW_TAG };
    try {
      helmFromRegistry('upgrade');
      await until(
        'every pod replaced by one of the new tag, Ready',
        () => {
          const p = pods();
          return (
            p.length === before.length &&
            p.every((x) => !oldUids.has(uid(x)) && ready(x) && x.spec.containers[0].image.endsWith(`:${NEW_TAG}`) && !(x.metadata as { deletionTimestamp?: string }).deletionTimestamp) &&
            p
          );
        },
        300_000,
      );
    } finally {
      loading = false;
      await load;
    }
    process.stdout.write(`rolling upgrade: every pod replaced, ${changes} registry changes made\n`);
    // Eventually the ServiceEntries say what the registries say: a change lost on the way never would.
    await until('the ServiceEntries equal to the registries after the load', converged, 180_000);
    watch.kill();
    const registered = new Set([...want.keys(), ...[CONSUL_SERVICE, ...SPREAD, LATE, DRAINED].map((n) => `${n}.service.consul`), `${EUREKA_APP.toLowerCase()}.eureka`, CLOUDMAP_HOST]);
    const wrongfulDeletes = events.filter((e) => e.type === 'DELETED' && e.object.spec.hosts.some((h) => registered.has(h)));
    const modified = events.filter((e) => e.type === 'MODIFIED').length;
    process.stdout.write(`rolling upgrade under load: ${changes} registry changes, ${modified} ServiceEntry updates, ${events.filter((e) => e.type === 'DELETED').length} deletes (${wrongfulDeletes.length} wrongful)\n`);
    expect(changes).toBeGreaterThan(10);
    expect(modified).toBeGreaterThan(0);
    expect(wrongfulDeletes.map((e) => e.object.metadata.name)).toEqual([]);
  }, 720_000);

  it('helm uninstall with uninstall.deleteWrittenResources: the post-delete Job removes every object of that installation, retrying while one cannot go yet, and touches no other installation', async () => {
    const installationB = `deploy-${id}-b`;
    const valuesB = join(mkdtempSync(join(tmpdir(), 'rb-install-b-')), 'values.yaml');
    const image = { registry };
    writeFileSync(
      valuesB,
      stringify({
        installation: installationB,
        externalRedis: { url: `redis://${BRIDGE}:16379`, prefix: `{rb-deploy-${id}-b}` },
        networkPolicy: { enabled: false },
        uninstall: { deleteWrittenResources: true, timeoutSeconds: 180 },
        writer: { image, replicas: 1, defaults: { namespace: MESH_NS_B, allowedHostSuffixes: ['.consul'] } },
        collectors: { consul: { image, replicas: 1, sources: [{ name: 'consul-b', address: `http://${BRIDGE}:18500`, filters: { allow: [`deploy${id}-s*`] } }] } },
      }),
    );
    kubectl('create', 'namespace', NS_B);
    kubectl('create', 'namespace', MESH_NS_B);
    const helmB = (...args: string[]) => spawnSync(helm, [...args, '--kubeconfig', kubeconfig, '-n', NS_B], { encoding: 'utf8' });
    const install = helmB('install', RELEASE_B, `oci://${registry}/charts/registry-bridge`, '--plain-http', '-f', valuesB);
    expect(install.stderr).not.toMatch(/Error/);
    const seB = () => json<{ items: SE[] }>('-n', MESH_NS_B, 'get', 'serviceentries').items;
    const written = await until('the second installation writing its ServiceEntries', () => {
      const items = seB();
      return items.length === SPREAD.length && items;
    }, 240_000);
    expect(new Set(written.map((e) => e.metadata.labels['registry-bridge.io/installation']))).toEqual(new Set([installationB]));
    const ownA = serviceEntries().map((e) => e.metadata.name).sort();

    // One object held by a finalizer: the Job deletes the rest and keeps retrying (the uninstall
    // does not return) until the hold is released, then the uninstall succeeds.
    const stuck = written[0].metadata.name;
    kubectl('-n', MESH_NS_B, 'patch', 'serviceentry', stuck, '--type=merge', '-p', '{"metadata":{"finalizers":["registry-bridge.io/test-hold"]}}');
    const uninstall = spawn(helm, ['uninstall', RELEASE_B, '--kubeconfig', kubeconfig, '-n', NS_B, '--wait', '--timeout', '5m']);
    let stderr = '';
    uninstall.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((r) => uninstall.on('exit', r));
    // The Job has run when the others are gone and the held one carries its delete request.
    const held = await until('the Job through every object but the held one', () => {
      const items = seB();
      return items.length === 1 && (items[0].metadata as { deletionTimestamp?: string }).deletionTimestamp !== undefined && items;
    }, 180_000);
    expect(held.map((e) => e.metadata.name)).toEqual([stuck]);
    expect(uninstall.exitCode).toBeNull();
    kubectl('-n', MESH_NS_B, 'patch', 'serviceentry', stuck, '--type=merge', '-p', '{"metadata":{"finalizers":null}}');
    expect(await exited).toBe(0);
    expect(stderr).toBe('');
    expect(seB()).toEqual([]);
    // The hook's Job, ServiceAccount and RBAC went with its success.
    expect(json<{ items: unknown[] }>('-n', NS_B, 'get', 'jobs,serviceaccounts,roles').items.filter((o) => JSON.stringify(o).includes('uninstall'))).toEqual([]);
    expect(spawnSync('kubectl', ['--kubeconfig', kubeconfig, 'get', 'clusterrole', `${RELEASE_B}-registry-bridge-uninstall-${NS_B}`]).status).not.toBe(0);
    // The other installation's objects are all still there.
    expect(serviceEntries().map((e) => e.metadata.name).sort()).toEqual(ownA);
  }, 600_000);

  it('helm uninstall by default leaves the written ServiceEntries in place', () => {
    const before = serviceEntries().map((e) => e.metadata.name).sort();
    expect(before.length).toBeGreaterThan(0);
    execFileSync(helm, ['uninstall', RELEASE, '--kubeconfig', kubeconfig, '-n', NS, '--wait'], { encoding: 'utf8' });
    expect(json<{ items: unknown[] }>('-n', NS, 'get', 'deployments').items).toEqual([]);
    expect(json<{ items: unknown[] }>('-n', NS, 'get', 'jobs').items).toEqual([]);
    expect(serviceEntries().map((e) => e.metadata.name).sort()).toEqual(before);
  });
});
