// End to end on the real peers: Cloud Map API (moto) -> collector-cloudmap (process) -> Redis ->
// writer (process, least-privilege RBAC of deploy/manifests) -> Kubernetes API server with Istio's CRDs.
import { AdminObject, AppProcess, CloudMap, KubeAdmin, loadPeersEnv, PeersEnv, startTestWriter, waitFor, WRITER_RBAC } from '@registry-bridge/test-peers';
import { Redis } from 'ioredis';
import { CollectorProcess, startCollector, writeConfig } from './testing/collector-process';

jest.setTimeout(180_000);

const id = Date.now().toString(36);
const k8sNs = `rb-cloudmap-e2e-${id}`;
const prefix = `{rbe2e-cm-${id}}`;
const source = `cloudmap-e2e-${id}`;

type SE = AdminObject & { spec: { hosts: string[]; ports?: Array<{ number: number; name: string; protocol?: string }>; endpoints?: Array<{ address: string; locality?: string }>; resolution?: string } };

const until = <T>(what: string, fn: () => Promise<T | undefined | false>, ms = 45_000): Promise<T> => waitFor(what, fn, ms);

describe('Cloud Map to ServiceEntry, end to end', () => {
  let peers: PeersEnv;
  let kube: KubeAdmin;
  let fx: CloudMap;
  let writer: AppProcess | undefined;
  let collector: CollectorProcess | undefined;
  let namespaceName: string;
  let serviceId: string;
  const serviceEntry = async (service: string): Promise<SE | undefined> =>
    (await kube.list<SE>('ServiceEntry', k8sNs)).find((o) => o.metadata.annotations?.['registry-bridge.io/service'] === service);

  beforeAll(async () => {
    peers = await loadPeersEnv({ peers: ['cloudMap', 'redis', 'kube'] });
    kube = KubeAdmin.forPeers(peers);
    fx = new CloudMap(peers);
    await kube.writerNamespace(k8sNs, peers.kube.writerUser, WRITER_RBAC);

    const port = 19300 + Math.floor(Math.random() * 200);
    writer = await startTestWriter({ peers, namespace: k8sNs, prefix, installation: 'cloudmap-e2e', sources: { [source]: { kind: 'cloudmap' } }, port });

    namespaceName = `e2e-${fx.suffix}.local`; // the writer's default host allow-list takes .local
    const nsId = await fx.namespace(namespaceName, 'HTTP');
    serviceId = await fx.service(nsId, 'orders', 'custom');
    const collectorCfg = writeConfig(`
http: { port: ${port + 1}, host: 127.0.0.1 }
redis: { url: ${peers.redisUrl}, prefix: "${prefix}" }
collector: { heartbeatSeconds: 2 }
sources:
  - name: ${source}
    region: ${peers.cloudMap.region}
    endpoint: ${peers.cloudMap.endpoint}
    verifyServiceNamespace: true
    namespaces: { names: [${namespaceName}] }
    budget: { GetService: { rps: 500 } }
    intervals: { inventorySeconds: 3, revisionSeconds: 1, healthSeconds: 2 }
`);
    collector = await startCollector(collectorCfg, port + 1, { AWS_ACCESS_KEY_ID: peers.cloudMap.accessKeyId, AWS_SECRET_ACCESS_KEY: peers.cloudMap.secretAccessKey });
  });

  afterAll(async () => {
    await collector?.stop('SIGKILL');
    await writer?.stop('SIGKILL');
    fx?.close();
    if (peers) {
      const redis = new Redis(peers.redisUrl);
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length) await redis.del(...keys);
      redis.disconnect();
      await kube?.deleteNamespace(k8sNs);
    }
  });

  afterEach(() => {
    const s = expect.getState();
    if (s.assertionCalls !== s.numPassingAsserts) process.stderr.write(`${writer?.tail()}\n${collector?.tail()}`);
  });

  it('registered instances appear, an unhealthy one leaves the endpoints, a deleted service is deleted after the grace period', async () => {
    let t = Date.now();
    await fx.register(serviceId, 'o-1', { AWS_INSTANCE_IPV4: '10.50.0.1', AWS_INSTANCE_PORT: '8080', protocol: 'http', AVAILABILITY_ZONE: 'us-east-1a' });
    await fx.register(serviceId, 'o-2', { AWS_INSTANCE_IPV4: '10.50.0.2', AWS_INSTANCE_PORT: '8080', protocol: 'http', AVAILABILITY_ZONE: 'us-east-1b' });
    const se = await until('ServiceEntry with two endpoints', async () => {
      const o = await serviceEntry('orders');
      return o && (o.spec.endpoints ?? []).length === 2 ? o : undefined;
    });
    const tAppear = Date.now() - t;
    expect(se.spec.hosts).toEqual([`orders.${namespaceName}`]);
    expect(se.spec.resolution).toBe('STATIC');
    expect(se.spec.ports).toEqual([expect.objectContaining({ number: 8080, protocol: 'HTTP' })]);
    expect(se.spec.endpoints?.map((e) => [e.address, e.locality]).sort()).toEqual([
      ['10.50.0.1', 'us-east-1/us-east-1a'],
      ['10.50.0.2', 'us-east-1/us-east-1b'],
    ]);

    // Health does not move the revision: the collector's health re-read carries it.
    t = Date.now();
    await fx.setHealth(serviceId, 'o-2', 'UNHEALTHY');
    await until('unhealthy endpoint gone', async () => {
      const o = await serviceEntry('orders');
      return o && JSON.stringify(o.spec.endpoints?.map((e) => e.address)) === JSON.stringify(['10.50.0.1']);
    });
    const tUnhealthy = Date.now() - t;

    // The service goes: the next complete inventory leaves it out; the writer deletes after its grace.
    t = Date.now();
    await fx.deleteService(serviceId);
    await until('ServiceEntry deleted', async () => (await serviceEntry('orders')) === undefined, 60_000);
    const tDelete = Date.now() - t;
    expect(tDelete).toBeGreaterThanOrEqual(2000);
    expect((await collector?.ready())?.status).toBe(200);
    process.stdout.write(`[measure] e2e Cloud Map -> ServiceEntry: appear ${tAppear} ms, unhealthy to endpoint gone ${tUnhealthy} ms, delete service to ServiceEntry deleted ${tDelete} ms (grace 2 s)\n`);
  });
});
