// Measurements for docs/istio-proof.md, bounded in time (npx nx bench e2e-istio):
//  1. Consul change -> endpoint change served by istiod to a connected sidecar (p50, p99).
//  2. istiod's pushes and CPU while 1,000 Consul services (2 instances each) are synced, then
//     churned, in inline vs workloadEntry mode.
// Uses the ACL-enabled Consul agent of the peers (default deny) so that other pipelines running on
// the shared peers do not pick these services up; the pretend sidecar is scoped to the bench's
// namespace by a Sidecar resource. The machine is small and shared: see the caveats in the doc.
import { loadPeersEnv, PeersEnv } from '@registry-bridge/test-peers';
import { IstiodEnv, istiodCpuSeconds, istiodMetric, istiodRssMiB, loadIstiodEnv } from './support/istiod';
import { AppProcess, cleanUp, freePortBase, meshNamespaces, requireBuilt, sleep, startApp, writerBase } from './support/pipeline';
import { addrs, clusterOf, XdsWatch } from './support/xds';

jest.setTimeout(30 * 60 * 1000);

const SERVICES = Number(process.env['RB_BENCH_SERVICES'] ?? 1000);
const FLIPS = Number(process.env['RB_BENCH_FLIPS'] ?? 100);
const CHURN = Number(process.env['RB_BENCH_CHURN'] ?? 100);
const TOKEN_ENV = 'RB_BENCH_CONSUL_TOKEN';

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
};

interface Pipeline {
  ns: string;
  probeNs: string;
  writer: AppProcess;
  collector: AppProcess;
  prefix: string;
  stop(): Promise<void>;
}

describe('istiod measurements', () => {
  let peers: PeersEnv;
  let istiod: IstiodEnv;
  const registered: string[] = [];
  const results: Record<string, unknown> = {};

  const consul = async (path: string, body?: unknown) => {
    const r = await fetch(`${peers.consul.aclAddr}${path}`, {
      method: 'PUT',
      headers: { 'x-consul-token': peers.consul.aclToken },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!r.ok) throw new Error(`${path}: ${r.status} ${await r.text()}`);
  };
  const register = async (svc: string, instance: number, address: string, port: number) => {
    await consul('/v1/agent/service/register', {
      Name: svc,
      ID: `${svc}-${instance}`,
      Address: address,
      Port: port,
      Meta: { protocol: 'http' },
      Check: { CheckID: `check-${svc}-${instance}`, TTL: '3600s', Status: 'passing' },
    });
    registered.push(`${svc}-${instance}`);
  };
  const flip = (svc: string, instance: number, state: 'pass' | 'fail') => consul(`/v1/agent/check/${state}/check-${svc}-${instance}`);
  /** Runs `fn` over `items` with `n` in flight. */
  const pool = async <T>(items: T[], n: number, fn: (x: T) => Promise<void>) => {
    let i = 0;
    await Promise.all(Array.from({ length: n }, async () => {
      while (i < items.length) await fn(items[i++]);
    }));
  };

  async function pipeline(tag: string, mode: 'inline' | 'workloadEntry', allow: string): Promise<Pipeline> {
    const id = `${tag}-${Date.now().toString(36)}`;
    const ns = `rb-istio-bench-${id}`;
    const probeNs = `${ns}-probe`;
    const prefix = `{rbistiobench-${id}}`;
    const source = `consul-bench-${id}`;
    await meshNamespaces(peers, ns, probeNs);
    const base = freePortBase();
    const writer = await startApp('writer', base, {
      ...writerBase(peers, `istio-bench-${id}`, prefix, ns),
      log: { level: 'warn' },
      kubernetes: { kubeconfig: peers.kube.adminKubeconfig, qps: 100, burst: 200 },
      reconcile: { fullResyncSeconds: 0 },
      events: { enabled: false },
      sources: { [source]: { kind: 'consul', endpointMode: mode } },
    });
    const collector = await startApp(
      'collector-consul',
      base + 1,
      {
        redis: { url: peers.redisUrl, prefix },
        collector: { heartbeatSeconds: 2 },
        sources: [
          {
            name: source,
            address: peers.consul.aclAddr,
            token: { env: TOKEN_ENV },
            filters: { allow: [allow] },
            watch: { waitSeconds: 30, snapshotIntervalSeconds: 10, maxBlockingWatches: 128, pollRatePerSecond: 50 },
          },
        ],
      },
      { [TOKEN_ENV]: peers.consul.aclToken, RB__log__level: 'warn' },
    );
    return {
      ns,
      probeNs,
      writer,
      collector,
      prefix,
      async stop() {
        await collector.stop();
        await writer.stop();
        await cleanUp(peers, prefix, [ns, probeNs]);
      },
    };
  }

  beforeAll(async () => {
    requireBuilt(['writer', 'collector-consul']);
    peers = await loadPeersEnv({ peers: ['consulAcl', 'redis', 'kube'] });
    istiod = await loadIstiodEnv();
  });

  afterAll(async () => {
    if (peers) await pool(registered, 16, (s) => consul(`/v1/agent/service/deregister/${s}`).catch(() => undefined));
    process.stdout.write(`[measure] results ${JSON.stringify(results)}\n`);
  });

  it(`Consul change -> endpoint change served by istiod: ${FLIPS} health flips`, async () => {
    const tag = `lat${Date.now().toString(36)}`;
    const svc = `bench-${tag}`;
    const p = await pipeline('lat', 'inline', `${svc}*`);
    const watch = new XdsWatch(istiod, { match: [svc], namespace: p.probeNs, pod: 'bench-latency' });
    try {
      await register(svc, 1, '10.61.0.1', 8080);
      await register(svc, 2, '10.61.0.2', 8080);
      const host = `${svc}.service.consul`;
      const both = ['10.61.0.1:8080', '10.61.0.2:8080'];
      await watch.until('both endpoints', (v) => JSON.stringify(addrs(clusterOf(v, host, 8080))) === JSON.stringify(both), 120000);
      const samples: number[] = [];
      for (let i = 0; i < FLIPS; i++) {
        const fail = i % 2 === 0;
        const want = fail ? ['10.61.0.1:8080'] : both;
        const t = Date.now();
        await flip(svc, 2, fail ? 'fail' : 'pass');
        const v = await watch.until(`flip ${i}`, (x) => JSON.stringify(addrs(clusterOf(x, host, 8080))) === JSON.stringify(want), 60000, t);
        samples.push(v.at - t);
        await sleep(200); // let each flip settle: this measures single changes, not bursts
      }
      results['latency'] = { samples: samples.length, p50: pct(samples, 50), p90: pct(samples, 90), p99: pct(samples, 99), max: Math.max(...samples), min: Math.min(...samples) };
      process.stdout.write(`[measure] Consul health flip -> endpoint change pushed by istiod (${samples.length} flips): p50 ${pct(samples, 50)} ms, p90 ${pct(samples, 90)} ms, p99 ${pct(samples, 99)} ms, max ${Math.max(...samples)} ms\n`);
      expect(samples).toHaveLength(FLIPS);
    } finally {
      await watch.close();
      await p.stop();
    }
  });

  for (const mode of ['inline', 'workloadEntry'] as const) {
    it(`${SERVICES} services x 2 instances in ${mode} mode: istiod pushes and CPU`, async () => {
      const tag = `${mode === 'inline' ? 'in' : 'we'}${Date.now().toString(36)}`;
      const svc = (i: number) => `bench-${tag}-${i}`;
      const p = await pipeline(mode === 'inline' ? 'in' : 'we', mode, `bench-${tag}-*`);
      const watch = new XdsWatch(istiod, { match: [`bench-${tag}-`], namespace: p.probeNs, pod: `bench-${mode.toLowerCase()}`, summary: true });
      const snap = async () => ({
        cpu: istiodCpuSeconds(istiod),
        pushes: {
          cds: await istiodMetric(istiod, 'pilot_xds_pushes', { type: 'cds' }),
          eds: await istiodMetric(istiod, 'pilot_xds_pushes', { type: 'eds' }),
          rds: await istiodMetric(istiod, 'pilot_xds_pushes', { type: 'rds' }),
        },
        triggers: {
          endpoint: await istiodMetric(istiod, 'pilot_push_triggers', { type: 'endpoint' }),
          service: await istiodMetric(istiod, 'pilot_push_triggers', { type: 'service' }),
          config: await istiodMetric(istiod, 'pilot_push_triggers', { type: 'config' }),
        },
        t: Date.now(),
      });
      const delta = (a: Awaited<ReturnType<typeof snap>>, b: Awaited<ReturnType<typeof snap>>) => ({
        seconds: Math.round((b.t - a.t) / 100) / 10,
        cpuSeconds: Math.round((b.cpu - a.cpu) * 10) / 10,
        pushes: { cds: b.pushes.cds - a.pushes.cds, eds: b.pushes.eds - a.pushes.eds, rds: b.pushes.rds - a.pushes.rds },
        triggers: { endpoint: b.triggers.endpoint - a.triggers.endpoint, service: b.triggers.service - a.triggers.service, config: b.triggers.config - a.triggers.config },
      });
      try {
        await watch.until('connected', () => true, 30000);
        const s0 = await snap();
        const rss0 = istiodRssMiB(istiod);
        const ids = Array.from({ length: SERVICES }, (_, i) => i);
        await pool(ids, 16, async (i) => {
          await register(svc(i), 1, `10.62.${i >> 8}.${i & 255}`, 8080);
          await register(svc(i), 2, `10.63.${i >> 8}.${i & 255}`, 8080);
        });
        const tRegistered = Date.now() - s0.t;
        const synced = (v: { clusters: Array<{ endpointCount: number }> }) => v.clusters.length === SERVICES && v.clusters.every((c) => c.endpointCount === 2);
        await watch.until(`${SERVICES} clusters with 2 endpoints each`, synced, 15 * 60 * 1000);
        const s1 = await snap();
        const rss1 = istiodRssMiB(istiod);
        // churn: one instance of CHURN services fails its check, one at a time, 100 ms apart
        const churned = ids.slice(0, CHURN);
        for (const i of churned) {
          await flip(svc(i), 2, 'fail');
          await sleep(100);
        }
        const churnedSet = new Set(churned.map((i) => `${svc(i)}.service.consul`));
        await watch.until('churn served', (v) => v.clusters.filter((c) => churnedSet.has(c.host)).every((c) => c.endpointCount === 1), 10 * 60 * 1000);
        await sleep(2000); // count the pushes that trail the last change
        const s2 = await snap();
        const r = {
          services: SERVICES,
          instances: 2 * SERVICES,
          registerSeconds: Math.round(tRegistered / 100) / 10,
          sync: delta(s0, s1),
          churn: { changes: CHURN, ...delta(s1, s2) },
          istiodRssMiB: { before: rss0, synced: rss1, after: istiodRssMiB(istiod) },
          probeResponses: { cds: watch.latest?.cdsResponses, eds: watch.latest?.edsResponses, rds: watch.latest?.rdsResponses },
        };
        results[mode] = r;
        process.stdout.write(`[measure] ${mode}: ${JSON.stringify(r)}\n`);
        expect(watch.latest?.clusters).toHaveLength(SERVICES);
      } finally {
        await watch.close();
        await p.stop();
        await pool(ids0(SERVICES), 16, async (i) => {
          await consul(`/v1/agent/service/deregister/${svc(i)}-1`).catch(() => undefined);
          await consul(`/v1/agent/service/deregister/${svc(i)}-2`).catch(() => undefined);
        });
      }
    });
  }
});

const ids0 = (n: number) => Array.from({ length: n }, (_, i) => i);
