import { loadPeersEnv } from '@registry-bridge/test-peers';
import { randomBytes } from 'node:crypto';
import tls from 'node:tls';
import { KubeClient, KubeObject } from './kube-client';

// Against the real API server: lists of custom resources must return every object (a paged
// list through @kubernetes/client-node 1.x loses its continue token after the first 500).
jest.setTimeout(180_000);

let kube: KubeClient;
const ns = `rb-kube-it-${randomBytes(3).toString('hex')}`;
const COUNT = 520;

beforeAll(async () => {
  const peers = await loadPeersEnv({ peers: ['kube'] });
  kube = KubeClient.fromOptions({ kubeconfig: peers.kube.adminKubeconfig, qps: 500, burst: 500, maxAttempts: 5, fieldManager: 'rb-kube-it' });
  await kube.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
  for (let start = 0; start < COUNT; start += 40) {
    await Promise.all(
      Array.from({ length: Math.min(40, COUNT - start) }, (_, j) =>
        kube.apply({
          apiVersion: 'networking.istio.io/v1',
          kind: 'ServiceEntry',
          metadata: { name: `se-${start + j}`, namespace: ns, labels: { batch: String((start + j) % 2) } },
          spec: { hosts: [`s${start + j}.kube-it.internal`], ports: [{ number: 80, name: 'http', protocol: 'HTTP' }], resolution: 'STATIC', location: 'MESH_INTERNAL' },
        } as KubeObject),
      ),
    );
  }
});

afterAll(async () => {
  // No controller-manager runs on the peers: delete the objects, the namespace stays Terminating.
  const items = await kube.list<KubeObject>('networking.istio.io/v1', 'ServiceEntry', ns).catch(() => []);
  for (let i = 0; i < items.length; i += 50) await Promise.all(items.slice(i, i + 50).map((o) => kube.delete('networking.istio.io/v1', 'ServiceEntry', ns, o.metadata.name)));
  await kube.delete('v1', 'Namespace', '', ns).catch(() => undefined);
});

describe('KubeClient against the real API server', () => {
  it('lists every custom resource, past 500, with the resourceVersion to watch from', async () => {
    const { items, resourceVersion } = await kube.listWithVersion<KubeObject>('networking.istio.io/v1', 'ServiceEntry', ns);
    expect(items).toHaveLength(COUNT);
    expect(new Set(items.map((o) => o.metadata.name)).size).toBe(COUNT);
    expect(Number(resourceVersion)).toBeGreaterThan(0);
  });

  it('filters by label selector', async () => {
    expect(await kube.list<KubeObject>('networking.istio.io/v1', 'ServiceEntry', ns, 'batch=1')).toHaveLength(COUNT / 2);
  });

  it('reports a missing object as undefined and deletes with preconditions', async () => {
    expect(await kube.get('networking.istio.io/v1', 'ServiceEntry', ns, 'nope')).toBeUndefined();
    const one = (await kube.get<KubeObject>('networking.istio.io/v1', 'ServiceEntry', ns, 'se-0'))!;
    await expect(kube.delete('networking.istio.io/v1', 'ServiceEntry', ns, 'se-0', { uid: 'not-the-uid' })).rejects.toThrow(/HTTP 409/);
    expect(await kube.delete('networking.istio.io/v1', 'ServiceEntry', ns, 'se-0', { uid: one.metadata.uid })).toBe(true);
    expect(await kube.delete('networking.istio.io/v1', 'ServiceEntry', ns, 'se-0')).toBe(false);
  });

  it('reuses its connections instead of opening one per request', async () => {
    // https.Agent opens its TLS connections through tls.connect
    const connect = jest.spyOn(tls, 'connect');
    try {
      for (let i = 0; i < 20; i++) await kube.get('networking.istio.io/v1', 'ServiceEntry', ns, `se-${1 + i}`);
      expect(connect.mock.calls.length).toBeLessThanOrEqual(2);
    } finally {
      connect.mockRestore();
    }
  });
});
