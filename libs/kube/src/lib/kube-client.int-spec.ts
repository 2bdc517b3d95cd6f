import { KubeConfig, KubernetesObjectApi } from '@kubernetes/client-node';
import { loadPeersEnv } from '@registry-bridge/test-peers';
import { randomBytes } from 'node:crypto';
import tls from 'node:tls';
import { KubeClient, KubeClientOptions, KubeObject } from './kube-client';

// Against the real API server: paged lists of custom resources must return every object (the
// library's own list loses the continue token after the first page), and requests must share
// connections (the library opens one per request).
jest.setTimeout(180_000);

let kube: KubeClient;
let kubeconfig: string;
const options = (o: Partial<KubeClientOptions> = {}): KubeClientOptions => ({ kubeconfig, qps: 500, burst: 500, maxAttempts: 5, fieldManager: 'rb-kube-it', ...o });
const ns = `rb-kube-it-${randomBytes(3).toString('hex')}`;
const COUNT = 520;

beforeAll(async () => {
  const peers = await loadPeersEnv({ peers: ['kube'] });
  kubeconfig = peers.kube.adminKubeconfig;
  kube = KubeClient.fromOptions(options());
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

  it('reads every page of a small page size', async () => {
    const paged = KubeClient.fromOptions(options({ listPageSize: 100 }));
    const items = await paged.list<KubeObject>('networking.istio.io/v1', 'ServiceEntry', ns);
    expect(items).toHaveLength(COUNT);
    expect(new Set(items.map((o) => o.metadata.name)).size).toBe(COUNT);
  });

  it("needs its own list decoding: client-node's list drops the continue token of a custom-resource list", async () => {
    // When this fails, the library keeps the token and PagedListApi can go.
    const kc = new KubeConfig();
    kc.loadFromFile(kubeconfig);
    const page = await KubernetesObjectApi.makeApiClient(kc).list('networking.istio.io/v1', 'ServiceEntry', ns, undefined, undefined, undefined, undefined, undefined, 100);
    expect(page.items).toHaveLength(100);
    const meta = (page.metadata ?? {}) as { continue?: string; _continue?: string };
    expect(meta.continue ?? meta._continue).toBeUndefined();
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

  // undici opens its TLS connections through tls.connect
  async function connectionsFor20Gets(client: KubeClient): Promise<number> {
    const connect = jest.spyOn(tls, 'connect');
    try {
      for (let i = 0; i < 20; i++) await client.get('networking.istio.io/v1', 'ServiceEntry', ns, `se-${1 + i}`);
      return connect.mock.calls.length;
    } finally {
      connect.mockRestore();
    }
  }

  it('reuses its connections instead of opening one per request', async () => {
    expect(await connectionsFor20Gets(kube)).toBeLessThanOrEqual(2);
  });

  it('needs reuseConnections: client-node alone opens a connection per request', async () => {
    // When this fails, the library reuses its connections and reuse-connections.ts can go.
    const kc = new KubeConfig();
    kc.loadFromFile(kubeconfig);
    expect(await connectionsFor20Gets(new KubeClient(kc, options()))).toBeGreaterThanOrEqual(20);
  });
});
