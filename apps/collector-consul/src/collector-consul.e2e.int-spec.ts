// End to end on the real peers: Consul agent -> collector-consul (process) -> Redis -> writer
// (process, least-privilege RBAC) -> Kubernetes API server with Istio's CRDs.
import { loadPeersEnv, PeersEnv } from '@registry-bridge/test-peers';
import { existsSync, readFileSync } from 'node:fs';
import { ChildProcess, spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { Redis } from 'ioredis';
import { parseAllDocuments, stringify } from 'yaml';
import { CollectorProcess, startCollector, writeYaml } from './testing/collector-process';
import { collectionPath, KubeRest, kubeRest } from './testing/kube-rest';

jest.setTimeout(180000);

const WORKSPACE = resolve(__dirname, '../../..');
const WRITER_MAIN = join(WORKSPACE, 'dist/apps/writer/main.js');
const id = Date.now().toString(36);
const ns = `rb-consul-e2e-${id}`;
const prefix = `{rbe2e-${id}}`;
const source = `consul-e2e-${id}`.slice(0, 63);
const svc = `e2e${id}-web`;

type SE = { metadata: { name: string; annotations?: Record<string, string> }; spec: { hosts: string[]; endpoints?: Array<{ address: string }> } };

const until = async <T>(what: string, fn: () => Promise<T | undefined | false>, ms = 30000): Promise<T> => {
  const t0 = Date.now();
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v) return v as T;
    if (Date.now() - t0 > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
};

describe('Consul to ServiceEntry, end to end', () => {
  let peers: PeersEnv;
  let kube: KubeRest;
  let writer: ChildProcess | undefined;
  let collector: CollectorProcess | undefined;
  const writerLogs: string[] = [];
  const consul = (path: string, body?: unknown) =>
    fetch(`${peers.consul.addr}${path}`, { method: 'PUT', body: body === undefined ? undefined : JSON.stringify(body) }).then(async (r) => {
      if (!r.ok) throw new Error(`${path}: ${r.status} ${await r.text()}`);
    });
  const serviceEntry = async (): Promise<SE | undefined> => {
    const r = await kube.call<{ items: SE[] }>('GET', collectionPath('ServiceEntry', ns));
    return r.body.items?.find((o) => o.metadata.annotations?.['registry-bridge.io/service'] === svc);
  };

  beforeAll(async () => {
    if (!existsSync(WRITER_MAIN)) throw new Error(`${WRITER_MAIN} is missing: run \`npx nx build writer\` first`);
    peers = await loadPeersEnv({ peers: ['consul', 'redis', 'kube'] });
    kube = kubeRest(peers.kube.server, peers.raw['RB_KUBE_ADMIN_TOKEN'], peers.raw['RB_KUBE_CA_FILE']);
    await kube.call('POST', collectionPath('Namespace'), { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    const rbac = readFileSync(join(WORKSPACE, 'deploy/manifests/writer-rbac.yaml'), 'utf8')
      .replace(/LEASE_NAMESPACE/g, ns)
      .replace(/NAMESPACE/g, ns)
      .replace(/SUBJECT/g, peers.kube.writerUser);
    for (const doc of parseAllDocuments(rbac)) {
      const obj = doc.toJSON() as { kind: string; metadata: { namespace: string } };
      const r = await kube.call('POST', collectionPath(obj.kind, obj.metadata.namespace), obj);
      if (r.status >= 300) throw new Error(`RBAC ${obj.kind}: ${r.status}`);
    }

    const writerCfg = writeYaml(
      stringify({
        installation: 'consul-e2e',
        http: { port: 0, host: '127.0.0.1' },
        redis: { url: peers.redisUrl, prefix },
        kubernetes: { kubeconfig: peers.kube.writerKubeconfig },
        leaderElection: { namespace: ns, leaseName: 'writer', leaseDurationSeconds: 6, renewDeadlineSeconds: 4, retryPeriodSeconds: 1 },
        deletion: { gracePeriodSeconds: 2, sourceSilenceSeconds: 30 },
        defaults: { namespace: ns },
        sources: { [source]: { kind: 'consul' } },
      }),
    );
    const port = 19600 + Math.floor(Math.random() * 300);
    writer = spawn(process.execPath, [WRITER_MAIN], { env: { ...process.env, RB_CONFIG_FILE: writerCfg, RB__http__port: String(port) }, stdio: ['ignore', 'pipe', 'pipe'] });
    writer.stdout?.on('data', (d: Buffer) => writerLogs.push(d.toString()));
    writer.stderr?.on('data', (d: Buffer) => writerLogs.push(d.toString()));

    const collectorCfg = writeYaml(`
http: { port: ${port + 1}, host: 127.0.0.1 }
redis: { url: ${peers.redisUrl}, prefix: "${prefix}" }
collector: { heartbeatSeconds: 2 }
sources:
  - name: ${source}
    address: ${peers.consul.addr}
    filters: { allow: ["e2e${id}-*"] }
    watch: { waitMs: 10000, snapshotIntervalMs: 5000 }
`);
    collector = await startCollector(collectorCfg, port + 1);
  });

  afterAll(async () => {
    await collector?.kill('SIGKILL');
    if (writer && writer.exitCode === null && writer.signalCode === null) {
      const gone = new Promise((r) => writer?.once('exit', r));
      writer.kill('SIGKILL');
      await gone;
    }
    if (peers) {
      await consul(`/v1/agent/service/deregister/${svc}-1`).catch(() => undefined);
      await consul(`/v1/agent/service/deregister/${svc}-2`).catch(() => undefined);
      const redis = new Redis(peers.redisUrl);
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length) await redis.del(...keys);
      redis.disconnect();
      await kube?.call('DELETE', `${collectionPath('Namespace')}/${ns}`);
    }
  });

  afterEach(() => {
    const s = expect.getState();
    if (s.assertionCalls !== s.numPassingAsserts) process.stderr.write(`${writerLogs.slice(-30).join('')}\n${collector?.logs.slice(-30).join('')}`);
  });

  it('a registered service appears, a failing check removes its endpoint, a deregistration deletes it after the grace period', async () => {
    const check = { TTL: '600s', Status: 'passing' };
    let t = Date.now();
    await consul('/v1/agent/service/register', { Name: svc, ID: `${svc}-1`, Port: 8080, Address: '10.40.0.1', Meta: { protocol: 'http' }, Check: check });
    await consul('/v1/agent/service/register', { Name: svc, ID: `${svc}-2`, Port: 8080, Address: '10.40.0.2', Meta: { protocol: 'http' }, Check: check });
    const se = await until('ServiceEntry', async () => {
      const o = await serviceEntry();
      return o && (o.spec.endpoints ?? []).length === 2 ? o : undefined;
    });
    const tAppear = Date.now() - t;
    expect(se.spec.hosts).toEqual([`${svc}.service.consul`]);
    expect(se.spec.endpoints?.map((e) => e.address).sort()).toEqual(['10.40.0.1', '10.40.0.2']);

    t = Date.now();
    await consul(`/v1/agent/check/fail/service:${svc}-2`);
    await until('endpoint removed', async () => {
      const o = await serviceEntry();
      return o && JSON.stringify(o.spec.endpoints?.map((e) => e.address)) === JSON.stringify(['10.40.0.1']);
    });
    const tFail = Date.now() - t;

    t = Date.now();
    await consul(`/v1/agent/service/deregister/${svc}-1`);
    await consul(`/v1/agent/service/deregister/${svc}-2`);
    await until('ServiceEntry deleted', async () => (await serviceEntry()) === undefined, 60000);
    const tDelete = Date.now() - t;
    expect(tDelete).toBeGreaterThanOrEqual(2000); // the writer's grace period
    expect((await collector?.ready())?.status).toBe(200);
    process.stdout.write(`[measure] e2e Consul -> ServiceEntry: appear ${tAppear} ms, failing check to endpoint gone ${tFail} ms, deregister to delete ${tDelete} ms (grace 2 s)\n`);
  });
});
