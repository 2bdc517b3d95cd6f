// Issue 18, item 4 (first part): the chart installed from the local OCI registry into the
// single-node cluster of scripts/peers/node.sh, with the real registries reachable from the pods.
// Ready is the kubelet's verdict from the chart's probes; ServiceEntries are written by the
// in-cluster writer under the chart's ServiceAccount and RBAC.
import { execFileSync, spawnSync } from 'node:child_process';
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
// More Consul services, for the replicas of a scaled-out collector to share.
const SPREAD = Array.from({ length: 8 }, (_, i) => `deploy${id}-s${i}`);
// Registered while the writer's leader is gone.
const LATE = `deploy${id}-late`;
const consulRegister = (name: string, i: number) =>
  fetch(`http://127.0.0.1:18500/v1/agent/service/register`, { method: 'PUT', body: JSON.stringify({ ID: `${name}-1`, Name: name, Address: `192.0.2.${30 + i}`, Port: 8080 }) });

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

type SE = { spec: { hosts: string[] }; metadata: { name: string; resourceVersion: string; labels: Record<string, string>; managedFields: Array<{ manager: string }> } };
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
  await fetch(`http://127.0.0.1:18761/eureka/apps/${EUREKA_APP}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      instance: {
        instanceId: `${EUREKA_APP}-1`,
        hostName: '192.0.2.20',
        app: EUREKA_APP,
        ipAddr: '192.0.2.20',
        status: 'UP',
        port: { $: 8080, '@enabled': 'true' },
        // No heartbeats from the test: a lease longer than the suite keeps Eureka from evicting it.
        leaseInfo: { durationInSecs: 3600, renewalIntervalInSecs: 30 },
        dataCenterInfo: { '@class': 'com.netflix.appinfo.InstanceInfo$DefaultDataCenterInfo', name: 'MyOwn' },
      },
    }),
  }).then((r) => expect(r.status).toBe(204));
  kubectl('create', 'namespace', NS);
  kubectl('create', 'namespace', MESH_NS);
  const image = { image: { registry } };
  values = {
      installation: `deploy-${id}`,
      externalRedis: { url: `redis://${BRIDGE}:16379`, prefix: `{rb-deploy-${id}}` },
      // The pods reach the peers through DNAT to the host's loopback, which NetworkPolicy egress
      // peers cannot describe; the policies are proven by the chart's own specs.
      networkPolicy: { enabled: false },
      writer: { ...image, defaults: { namespace: MESH_NS, allowedHostSuffixes: ['.consul', '.eureka'] } },
      collectors: {
        consul: { ...image, replicas: 1, sources: [{ name: 'consul-dc1', address: `http://${BRIDGE}:18500`, filters: { allow: [`deploy${id}-*`] } }] },
        eureka: { ...image, enabled: true, replicas: 1, sources: [{ name: 'eureka-a', serviceUrls: [`http://${BRIDGE}:18761/eureka`], apps: { include: [EUREKA_APP] } }] },
      },
  };
  helmFromRegistry('install');
}, 600_000);

afterAll(() => {
  if (!kubeconfig) return;
  execFileSync(helm, ['uninstall', RELEASE, '--kubeconfig', kubeconfig, '-n', NS, '--wait'], { encoding: 'utf8' });
  kubectl('delete', 'namespace', NS, MESH_NS, '--wait=false');
  for (const name of [CONSUL_SERVICE, ...SPREAD, LATE]) void fetch(`http://127.0.0.1:18500/v1/agent/service/deregister/${name}-1`, { method: 'PUT' });
  void fetch(`http://127.0.0.1:18761/eureka/apps/${EUREKA_APP}/${EUREKA_APP}-1`, { method: 'DELETE' });
});

describe('the chart on a real node', () => {
  it('has every pod Ready because the kubelet called the chart probes and they passed', async () => {
    const all = await until('every pod Ready', () => {
      const p = pods();
      return p.length === 4 && p.every(ready) && p;
    });
    expect(all.map(component).sort()).toEqual(['collector-consul', 'collector-eureka', 'writer', 'writer']);
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
    const hosts = [`${CONSUL_SERVICE}.service.consul`, `${EUREKA_APP.toLowerCase()}.eureka`];
    const ses = await until('a ServiceEntry per registry', () => {
      const items = serviceEntries();
      return hosts.every((h) => items.some((i) => i.spec.hosts.includes(h))) && items;
    });
    expect(new Set(ses.map((s) => s.metadata.labels['registry-bridge.io/registry']))).toEqual(new Set(['consul', 'eureka']));
    // The writer pods run as the chart's ServiceAccount, the only identity with write RBAC there.
    const writers = pods().filter((p) => component(p) === 'writer');
    expect(new Set(writers.map((p) => p.spec.serviceAccountName))).toEqual(new Set([`${RELEASE}-registry-bridge-writer`]));
    // `kubectl auth can-i` answers yes/no on stdout and exits 1 on no.
    const canWrite = (user: string) =>
      spawnSync('kubectl', ['--kubeconfig', kubeconfig, 'auth', 'can-i', 'create', 'serviceentries.networking.istio.io', '-n', MESH_NS, '--as', user], { encoding: 'utf8' }).stdout.trim();
    expect(canWrite(`system:serviceaccount:${NS}:${RELEASE}-registry-bridge-writer`)).toBe('yes');
    expect(canWrite(`system:serviceaccount:${NS}:${RELEASE}-registry-bridge-collector-consul`)).toBe('no');
  });

  it('upgrades the Eureka collector on its own: the other pods and every ServiceEntry stay as they were', async () => {
    const before = await until('every pod Ready', () => {
      const p = pods();
      return p.length === 4 && p.every(ready) && p;
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
});
