import { ApiException, CoreV1Api, KubeConfig, KubernetesObject, KubernetesObjectApi, PatchStrategy } from '@kubernetes/client-node';
import { join, resolve } from 'node:path';
import { KubeAdmin, kubePath } from './kube-admin';
import { loadPeersEnv, PeersEnv } from './peers-env';

// Smoke test of the Kubernetes API server peer with Istio's own CRDs installed.
interface ServiceEntry extends KubernetesObject {
  spec: {
    hosts: string[];
    location?: string;
    resolution?: string;
    ports?: { number: number; name: string; protocol?: string }[];
    endpoints?: { address: string; labels?: Record<string, string> }[];
  };
}

function kubeConfig(file: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(file);
  return kc;
}

/** Awaits a request that must fail with `code`; returns the message of the API server's Status. */
async function expectApiError(p: Promise<unknown>, code: number): Promise<string> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(ApiException);
    const err = e as ApiException<unknown>;
    expect(err.code).toBe(code);
    const status = (typeof err.body === 'string' ? JSON.parse(err.body) : err.body) as { message?: string };
    return status.message ?? '';
  }
  throw new Error(`expected the API server to answer ${code}`);
}

jest.setTimeout(60_000); // a loaded 2-core machine; the waits inside are bounded on their own

describe('peer: Kubernetes API server + Istio CRDs', () => {
  let env: PeersEnv;
  let objects: KubernetesObjectApi;
  const ns = `smoke-${process.pid}-${Date.now()}`;

  beforeAll(async () => {
    env = await loadPeersEnv({ peers: ['kube'] });
    const admin = kubeConfig(env.kube.adminKubeconfig);
    objects = KubernetesObjectApi.makeApiClient(admin);
    // no controller-manager runs: namespaces are created directly (and are gone at the next `up`)
    await admin.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name: ns } } });
  });

  const serviceEntry = (spec: ServiceEntry['spec']): ServiceEntry => ({
    apiVersion: 'networking.istio.io/v1',
    kind: 'ServiceEntry',
    metadata: { name: 'orders', namespace: ns, labels: { 'app.kubernetes.io/managed-by': 'registry-bridge' } },
    spec,
  });

  it('creates, server-side applies and deletes a networking.istio.io/v1 ServiceEntry', async () => {
    const created = await objects.create(
      serviceEntry({ hosts: ['orders.consul.local'], location: 'MESH_INTERNAL', resolution: 'STATIC', ports: [{ number: 8080, name: 'http', protocol: 'HTTP' }], endpoints: [{ address: '10.0.0.1' }] }),
    );
    expect(created.metadata?.uid).toBeTruthy();

    const applied = await objects.patch(
      serviceEntry({ hosts: ['orders.consul.local'], location: 'MESH_INTERNAL', resolution: 'STATIC', ports: [{ number: 8080, name: 'http', protocol: 'HTTP' }], endpoints: [{ address: '10.0.0.1' }, { address: '10.0.0.2' }] }),
      undefined,
      undefined,
      'registry-bridge-smoke',
      true,
      PatchStrategy.ServerSideApply,
    );
    expect(applied.spec.endpoints?.map((e) => e.address)).toEqual(['10.0.0.1', '10.0.0.2']);
    expect(applied.metadata?.managedFields?.some((f) => f.manager === 'registry-bridge-smoke' && f.operation === 'Apply')).toBe(true);

    const read = await objects.read<ServiceEntry>({ apiVersion: 'networking.istio.io/v1', kind: 'ServiceEntry', metadata: { name: 'orders', namespace: ns } });
    // istiod (started with the peers) may have written the status in between, which bumps
    // resourceVersion but not generation: the spec read back is the one applied
    expect(read.metadata?.generation).toBe(applied.metadata?.generation);
    expect(read.spec.endpoints?.map((e) => e.address)).toEqual(['10.0.0.1', '10.0.0.2']);

    await objects.delete(read);
    await expectApiError(objects.read({ apiVersion: 'networking.istio.io/v1', kind: 'ServiceEntry', metadata: { name: 'orders', namespace: ns } }), 404);
  });

  it('rejects a ServiceEntry that the CRD schema does not allow', async () => {
    const body = await expectApiError(objects.create(serviceEntry({ hosts: ['bad.consul.local'], resolution: 'BOGUS', ports: [{ number: 8080, name: 'http' }] })), 422);
    expect(body).toMatch(/spec\.resolution/);
    expect(body).toMatch(/Unsupported value/);
  });

  // Writes, not lists: the writer's RBAC reads ServiceEntries cluster-wide (host collisions with
  // anyone's), and the grant of an earlier suite on these shared peers outlives its namespace.
  const writerProbe = () => ({ ...serviceEntry({ hosts: ['probe.consul.local'], resolution: 'STATIC', ports: [{ number: 80, name: 'http' }] }), metadata: { name: 'writer-probe', namespace: ns } });

  it('the writer identity is authenticated but may not write until RBAC grants it a namespace', async () => {
    const writer = KubernetesObjectApi.makeApiClient(kubeConfig(env.kube.writerKubeconfig));
    const body = await expectApiError(writer.create(writerProbe()), 403);
    expect(body).toContain(`User "${env.kube.writerUser}" cannot create resource "serviceentries"`);
  });
  it("KubeAdmin (the tests' own HTTPS client) creates, lists and refuses, and grants the writer exactly the manifest's RBAC", async () => {
    const admin = KubeAdmin.forPeers(env);
    const wns = `${ns}-w`;
    await admin.writerNamespace(wns, env.kube.writerUser, join(resolve(__dirname, '../../../..'), 'deploy/manifests/writer-rbac.yaml'));
    try {
      const writer = KubernetesObjectApi.makeApiClient(kubeConfig(env.kube.writerKubeconfig));
      expect((await writer.list('networking.istio.io/v1', 'ServiceEntry', wns)).items).toEqual([]);
      await expectApiError(writer.create(writerProbe()), 403);
      // …while it reads ServiceEntries everywhere (the manifest's read-only ClusterRole)
      expect(Array.isArray((await writer.list('networking.istio.io/v1', 'ServiceEntry', ns)).items)).toBe(true);

      const se = { apiVersion: 'networking.istio.io/v1', kind: 'ServiceEntry', metadata: { name: 'orders', namespace: wns }, spec: { hosts: ['pay.consul.local'], resolution: 'STATIC', ports: [{ number: 80, name: 'http' }] } };
      await admin.create(se);
      await expect(admin.create(se)).rejects.toThrow(/create ServiceEntry orders: 409/);
      await admin.create(se, true);
      expect((await admin.list<ServiceEntry>('ServiceEntry', wns)).map((o) => o.spec.hosts)).toEqual([['pay.consul.local']]);
      const missing = await admin.call<{ reason: string }>('GET', kubePath('ServiceEntry', wns, 'nope'));
      expect([missing.status, missing.body.reason]).toEqual([404, 'NotFound']);
      await expect(admin.must('GET', kubePath('ServiceEntry', wns, 'nope'))).rejects.toThrow(/GET \/apis\/networking.istio.io\/v1\/namespaces\/.*\/serviceentries\/nope: 404/);
    } finally {
      await admin.deleteNamespace(wns);
    }
    const gone = await admin.call<{ status: { phase: string } }>('GET', kubePath('Namespace', undefined, wns));
    expect(gone.status === 404 || gone.body.status?.phase === 'Terminating').toBe(true);
  });
});
