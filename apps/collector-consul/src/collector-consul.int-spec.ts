// Two real collector processes against the real Consul agent and Redis (`bash scripts/peers.sh up`).
import { loadPeersEnv, PeersEnv } from '@registry-bridge/test-peers';
import { QUEUES } from '@registry-bridge/contract';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { CollectorProcess, startCollector, writeConfig } from './testing/collector-process';

jest.setTimeout(120000);

const run = `rep${Date.now().toString(36)}`;
const prefix = `{rbit-${run}}`;
const N = 40;
const until = async (what: string, cond: () => Promise<boolean> | boolean, ms = 30000): Promise<number> => {
  const t0 = Date.now();
  while (!(await cond())) {
    if (Date.now() - t0 > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return Date.now() - t0;
};

describe('collector-consul replicas', () => {
  let peers: PeersEnv;
  let redis: Redis;
  let queue: Queue;
  const procs: CollectorProcess[] = [];
  const consul = (path: string, body?: unknown) =>
    fetch(`${peers.consul.addr}${path}`, { method: 'PUT', body: body === undefined ? undefined : JSON.stringify(body) }).then(async (r) => {
      if (!r.ok) throw new Error(`${path}: ${r.status} ${await r.text()}`);
    });
  const name = (i: number) => `${run}-svc${i}`;

  /** Upserts in the ingest queue for a service, newest last. */
  async function upserts(service: string) {
    const jobs = await queue.getJobs(['waiting', 'prioritized', 'delayed'], 0, -1, true);
    return jobs
      .filter((j) => j.name === 'upsert' && j.data.record.service === service)
      .map((j) => j.data.record as { revision: number; endpoints: Array<{ health: string }> });
  }

  beforeAll(async () => {
    peers = await loadPeersEnv({ peers: ['consul', 'redis'] });
    redis = new Redis(peers.redisUrl, { maxRetriesPerRequest: null });
    queue = new Queue(QUEUES.ingest, { connection: redis, prefix });
    for (let i = 0; i < N; i++) {
      await consul('/v1/agent/service/register', { Name: name(i), ID: `${name(i)}-1`, Port: 9000 + i, Address: '10.5.0.1', Check: { TTL: '600s', Status: 'passing' } });
    }
  });

  afterAll(async () => {
    await Promise.all(procs.map((p) => p.stop('SIGKILL')));
    if (peers) for (let i = 0; i < N; i++) await consul(`/v1/agent/service/deregister/${name(i)}-1`).catch(() => undefined);
    await queue?.obliterate({ force: true }).catch(() => undefined);
    await queue?.close();
    redis?.disconnect();
  });

  it('shares the services between two replicas, one snapshot sender, and moves a killed replica’s share within seconds', async () => {
    const config = writeConfig(`
redis: { url: ${peers.redisUrl}, prefix: "${prefix}" }
collector: { memberTtlSeconds: 3, heartbeatSeconds: 2 }
sources:
  - name: consul-rep
    address: ${peers.consul.addr}
    filters: { allow: ["${run}-*"] }
    watch: { waitSeconds: 5, snapshotIntervalSeconds: 5, maxBlockingWatches: 8, pollRatePerSecond: 50 }
`);
    const basePort = 19000 + Math.floor(Math.random() * 500);
    const a = await startCollector(config, basePort, { RB__http__port: String(basePort), RB__http__host: '127.0.0.1' });
    procs.push(a);
    const b = await startCollector(config, basePort + 1, { RB__http__port: String(basePort + 1), RB__http__host: '127.0.0.1' });
    procs.push(b);

    const owned = async (p: CollectorProcess) => p.metric('registry_bridge_collector_owned_services', { source: 'consul-rep' });
    await until('both replicas see each other and split the work', async () => {
      const [oa, ob] = [await owned(a), await owned(b)];
      return oa > 0 && ob > 0 && oa + ob === N;
    });
    await until('every service upserted once at least', async () => {
      const all = await Promise.all(Array.from({ length: N }, (_, i) => upserts(name(i))));
      return all.every((u) => u.length > 0);
    });
    const [oa, ob] = [await owned(a), await owned(b)];
    const snapA = await a.metric('registry_bridge_consul_records_total', { outcome: 'snapshot' });
    const snapB = await b.metric('registry_bridge_consul_records_total', { outcome: 'snapshot' });
    expect(snapA > 0 !== snapB > 0).toBe(true); // exactly one sends snapshots
    expect((await a.ready()).status).toBe(200);

    // Crash (no goodbye): the survivor must take over once the member entry expires.
    const tKill = Date.now();
    await a.stop('SIGKILL');
    const tTakeover = await until('survivor owns everything', async () => (await owned(b)) === N, 20000);

    // Every service still propagates: flip all health checks, each must arrive as unhealthy.
    const tFlip = Date.now();
    for (let i = 0; i < N; i++) await consul(`/v1/agent/check/fail/service:${name(i)}-1`);
    await until('every flip delivered by the survivor', async () => {
      const all = await Promise.all(Array.from({ length: N }, (_, i) => upserts(name(i))));
      return all.every((u) => u.at(-1)?.endpoints[0]?.health === 'unhealthy');
    });
    const tFlipAll = Date.now() - tFlip;
    await until('the survivor sends snapshots', async () => (await b.metric('registry_bridge_consul_records_total', { outcome: 'snapshot' })) > snapB, 20000);
    const removes = (await queue.getJobs(['waiting'], 0, -1, true)).filter((j) => j.name === 'remove');
    expect(removes).toEqual([]);
    process.stdout.write(
      `[measure] ${N} services over 2 replicas: split ${oa}/${ob}; after SIGKILL the survivor owned all in ${tTakeover} ms ` +
        `(member TTL 3 s; ${Date.now() - tKill} ms since kill at end); ${N} health flips delivered in ${tFlipAll} ms\n`,
    );
  });
});
