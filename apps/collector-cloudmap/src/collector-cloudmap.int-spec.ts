import { Message, QUEUES } from '@registry-bridge/contract';
import { CloudMap, loadPeersEnv, PeersEnv } from '@registry-bridge/test-peers';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { existsSync } from 'node:fs';
import { CollectorProcess, MAIN_JS, startCollector, writeConfig } from './testing/collector-process';

// The collector as a process (`node dist/apps/collector-cloudmap/main.js`, RB_CONFIG_FILE) against
// moto and Redis; an own queue prefix so no writer consumes what it sends.
let peers: PeersEnv;
let redis: Redis;
let queue: Queue;
let fx: CloudMap;
const procs: CollectorProcess[] = [];
const prefix = `{rbit-cm-${process.pid}-${Date.now() % 100000}}`;

beforeAll(async () => {
  peers = await loadPeersEnv({ peers: ['cloudMap', 'redis'] });
  if (!existsSync(MAIN_JS)) throw new Error(`${MAIN_JS} is missing: run \`npx nx build collector-cloudmap\` first`);
  redis = new Redis(peers.redisUrl, { maxRetriesPerRequest: null });
  queue = new Queue(QUEUES.ingest, { connection: redis, prefix });
  fx = new CloudMap(peers);
});

afterAll(async () => {
  const t0 = Date.now();
  await Promise.all(procs.map((p) => p.stop()));
  // SIGTERM: watchers stop, the member leaves, Redis closes, within the time a pod gets.
  expect(Date.now() - t0).toBeLessThan(10000);
  await queue?.obliterate({ force: true }).catch(() => undefined);
  await queue?.close();
  fx?.close();
  await redis?.quit();
});

const awsEnv = () => ({ AWS_ACCESS_KEY_ID: peers.cloudMap.accessKeyId, AWS_SECRET_ACCESS_KEY: peers.cloudMap.secretAccessKey, AWS_EC2_METADATA_DISABLED: 'true' });

async function messages(): Promise<Message[]> {
  const jobs = await queue.getJobs(['waiting', 'prioritized', 'delayed'], 0, -1, true);
  return jobs.map((j) => j.data as Message);
}

async function until<T>(what: string, fn: () => Promise<T | undefined | false>, ms = 30000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

function config(port: number, sources: string): string {
  return writeConfig(`
http: { port: ${port}, host: 127.0.0.1 }
redis: { url: ${peers.redisUrl}, prefix: "${prefix}" }
collector: { heartbeatSeconds: 2, memberTtlSeconds: 3 }
readinessGraceSeconds: 30
sources:
${sources}`);
}

describe('collector-cloudmap process', () => {
  it('two replicas split the services, send upserts and one snapshot stream, serve health and metrics; an unreachable source reads as unreachable, never empty', async () => {
    const ns = fx.name('e2e.local');
    const nsId = await fx.namespace(ns, 'HTTP');
    const count = 12;
    const ids: string[] = [];
    for (let i = 0; i < count; i++) {
      const id = await fx.service(nsId, `svc-${i}`, 'custom');
      await fx.register(id, 'a', { AWS_INSTANCE_IPV4: `10.9.0.${i + 1}`, AWS_INSTANCE_PORT: '8080', protocol: 'http' });
      ids.push(id);
    }
    const src = `cm-e2e-${fx.suffix}`;
    const dead = `cm-dead-${fx.suffix}`;
    const sources = `
  - name: ${src}
    region: ${peers.cloudMap.region}
    endpoint: ${peers.cloudMap.endpoint}
    verifyServiceNamespace: true
    namespaces: { names: [${ns}] }
    budget: { GetService: { rps: 500 } }
    intervals: { inventorySeconds: 5, revisionSeconds: 1, healthSeconds: 3 }
  - name: ${dead}
    region: ${peers.cloudMap.region}
    endpoint: http://127.0.0.1:9
    requestTimeoutSeconds: 1
    intervals: { inventorySeconds: 2 }
`;
    const a = await startCollector(config(18941, sources), 18941, awsEnv());
    procs.push(a);
    const b = await startCollector(config(18942, sources), 18942, awsEnv());
    procs.push(b);

    // Every service arrives once, whichever replica owns it.
    await until('all upserts', async () => {
      const got = new Set((await messages()).flatMap((m) => (m.type === 'upsert' && m.record.source.name === src ? [m.record.service] : [])));
      return got.size === count;
    });
    await until('both replicas to own services', async () => {
      const [oa, ob] = await Promise.all([a.metric('registry_bridge_collector_owned_services', { source: src }), b.metric('registry_bridge_collector_owned_services', { source: src })]);
      return oa > 0 && ob > 0 && oa + ob === count;
    });
    const first = (await messages()).find((m) => m.type === 'upsert' && m.record.service === 'svc-0');
    expect(first).toMatchObject({ record: { scope: ns, ports: [{ name: 'http', number: 8080, protocol: 'HTTP' }], endpoints: [{ address: '10.9.0.1', health: 'healthy' }] } });

    // A health flip (no revision move) reaches the queue through the periodic re-read.
    await fx.setHealth(ids[0], 'a', 'UNHEALTHY');
    await until('the health change', async () =>
      (await messages()).some((m) => m.type === 'upsert' && m.record.service === 'svc-0' && m.record.endpoints[0]?.health === 'unhealthy'),
    );

    const all = await messages();
    const snapshots = all.filter((m) => m.type === 'snapshot' && m.source.name === src);
    expect(snapshots.length).toBeGreaterThan(0);
    expect(snapshots.every((s) => s.type === 'snapshot' && s.complete && s.services.length === count)).toBe(true);
    // The dead source: status reachable=false, and nothing that could read as empty.
    expect(all.some((m) => m.type === 'sourceStatus' && m.source.name === dead && !m.reachable && /ECONNREFUSED|connect/i.test(m.error ?? ''))).toBe(true);
    expect(all.filter((m) => m.type !== 'sourceStatus' && (m.type === 'upsert' ? m.record.source : m.source).name === dead)).toEqual([]);

    // Readiness names the dead source; liveness is fine; metrics carry the Cloud Map series.
    const ready = await a.get('/health/ready');
    expect(ready.status).toBe(503);
    expect(ready.text).toContain(`cloudmap:${dead}`);
    expect((await a.get('/health/live')).status).toBe(200);
    const revisionCalls = (await a.metric('registry_bridge_cloudmap_api_requests_total', { source: src, api: 'DiscoverInstancesRevision', outcome: 'ok' })) + (await b.metric('registry_bridge_cloudmap_api_requests_total', { source: src, api: 'DiscoverInstancesRevision', outcome: 'ok' }));
    expect(revisionCalls).toBeGreaterThan(0);
    expect(await a.metric('registry_bridge_cloudmap_budget_tokens_total', { source: src })).toBeGreaterThan(0);
    expect(await a.metric('registry_bridge_cloudmap_budget_rps', { source: src, api: 'DiscoverInstances' })).toBe(50);
    expect(await a.metric('registry_bridge_collector_last_success_timestamp_seconds', { source: src })).toBeGreaterThan(0);
    expect(a.logs.join('')).not.toContain(peers.cloudMap.secretAccessKey === 'testing' ? '"secretAccessKey"' : peers.cloudMap.secretAccessKey);

    // A replica dies: the survivor takes all services over, and nothing is removed.
    await b.stop('SIGKILL');
    await until('the survivor to own everything', async () => (await a.metric('registry_bridge_collector_owned_services', { source: src })) === count, 20000);
    expect((await messages()).filter((m) => m.type === 'remove')).toEqual([]);
  }, 150_000);
});
