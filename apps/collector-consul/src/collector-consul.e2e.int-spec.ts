// End to end on the real peers: Consul agent -> collector-consul (process) -> Redis -> writer
// (process, least-privilege RBAC) -> Kubernetes API server with Istio's CRDs.
import { AppProcess, KubeAdmin, loadPeersEnv, PeersEnv, startTestWriter, waitFor, WRITER_RBAC } from '@registry-bridge/test-peers';
import { Redis } from 'ioredis';
import { CollectorProcess, startCollector, writeConfig } from './testing/collector-process';

jest.setTimeout(180000);

const id = Date.now().toString(36);
const ns = `rb-consul-e2e-${id}`;
const prefix = `{rbe2e-${id}}`;
const source = `consul-e2e-${id}`.slice(0, 63);
const svc = `e2e${id}-web`;

type SE = { metadata: { name: string; annotations?: Record<string, string> }; spec: { hosts: string[]; endpoints?: Array<{ address: string }> } };

describe('Consul to ServiceEntry, end to end', () => {
  let peers: PeersEnv;
  let kube: KubeAdmin;
  let writer: AppProcess | undefined;
  let collector: CollectorProcess | undefined;
  const consul = (path: string, body?: unknown) =>
    fetch(`${peers.consul.addr}${path}`, { method: 'PUT', body: body === undefined ? undefined : JSON.stringify(body) }).then(async (r) => {
      if (!r.ok) throw new Error(`${path}: ${r.status} ${await r.text()}`);
    });
  const serviceEntry = async (): Promise<SE | undefined> => (await kube.list<SE>('ServiceEntry', ns)).find((o) => o.metadata.annotations?.['registry-bridge.io/service'] === svc);

  beforeAll(async () => {
    peers = await loadPeersEnv({ peers: ['consul', 'redis', 'kube'] });
    kube = KubeAdmin.forPeers(peers);
    // The writer runs with its least-privilege identity and the RBAC of deploy/manifests.
    await kube.writerNamespace(ns, peers.kube.writerUser, WRITER_RBAC);

    const port = 19600 + Math.floor(Math.random() * 300);
    writer = await startTestWriter({ peers, namespace: ns, prefix, installation: 'consul-e2e', sources: { [source]: { kind: 'consul' } }, port });

    const collectorCfg = writeConfig(`
http: { port: ${port + 1}, host: 127.0.0.1 }
redis: { url: ${peers.redisUrl}, prefix: "${prefix}" }
collector: { heartbeatSeconds: 2 }
sources:
  - name: ${source}
    address: ${peers.consul.addr}
    filters: { allow: ["e2e${id}-*"] }
    watch: { waitSeconds: 10, snapshotIntervalSeconds: 5 }
`);
    collector = await startCollector(collectorCfg, port + 1);
  });

  afterAll(async () => {
    await collector?.stop('SIGKILL');
    await writer?.stop('SIGKILL');
    if (peers) {
      await consul(`/v1/agent/service/deregister/${svc}-1`).catch(() => undefined);
      await consul(`/v1/agent/service/deregister/${svc}-2`).catch(() => undefined);
      const redis = new Redis(peers.redisUrl);
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length) await redis.del(...keys);
      redis.disconnect();
      await kube?.deleteNamespace(ns);
    }
  });

  afterEach(() => {
    const s = expect.getState();
    if (s.assertionCalls !== s.numPassingAsserts) process.stderr.write(`${writer?.tail()}\n${collector?.tail()}`);
  });

  it('a registered service appears, a failing check removes its endpoint, a deregistration deletes it after the grace period', async () => {
    const check = { TTL: '600s', Status: 'passing' };
    let t = Date.now();
    await consul('/v1/agent/service/register', { Name: svc, ID: `${svc}-1`, Port: 8080, Address: '10.40.0.1', Meta: { protocol: 'http' }, Check: check });
    await consul('/v1/agent/service/register', { Name: svc, ID: `${svc}-2`, Port: 8080, Address: '10.40.0.2', Meta: { protocol: 'http' }, Check: check });
    const se = await waitFor('ServiceEntry', async () => {
      const o = await serviceEntry();
      return o && (o.spec.endpoints ?? []).length === 2 ? o : undefined;
    });
    const tAppear = Date.now() - t;
    expect(se.spec.hosts).toEqual([`${svc}.service.consul`]);
    expect(se.spec.endpoints?.map((e) => e.address).sort()).toEqual(['10.40.0.1', '10.40.0.2']);

    t = Date.now();
    await consul(`/v1/agent/check/fail/service:${svc}-2`);
    await waitFor('endpoint removed', async () => {
      const o = await serviceEntry();
      return o && JSON.stringify(o.spec.endpoints?.map((e) => e.address)) === JSON.stringify(['10.40.0.1']);
    });
    const tFail = Date.now() - t;

    t = Date.now();
    await consul(`/v1/agent/service/deregister/${svc}-1`);
    await consul(`/v1/agent/service/deregister/${svc}-2`);
    await waitFor('ServiceEntry deleted', async () => (await serviceEntry()) === undefined, 60000);
    const tDelete = Date.now() - t;
    expect(tDelete).toBeGreaterThanOrEqual(2000); // the writer's grace period
    expect((await collector?.ready())?.status).toBe(200);
    process.stdout.write(`[measure] e2e Consul -> ServiceEntry: appear ${tAppear} ms, failing check to endpoint gone ${tFail} ms, deregister to delete ${tDelete} ms (grace 2 s)\n`);
  });
});
