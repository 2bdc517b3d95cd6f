// Faults of the API server, injected by a proxy between the writer and the real kube-apiserver:
// 429 (with Retry-After), 500, 409 conflicts on writes, 2 s of latency on every request, and the
// server gone (connections dropped). Expected: every update arrives (no lost update), nothing is
// deleted, and the writer backs off: requests during each fault stay bounded (no busy loop).
import { sleep, until } from './support/apps';
import { Fault, FaultProxy } from './support/fault-proxy';
import { exactly, Ingest } from './support/queue';
import { dumpOnFailure, Scenario } from './support/scenario';

// A busy loop retries thousands of times in a few seconds; backoff from 250 ms costs a few dozen.
const MAX_REQUESTS_PER_FAULT_WINDOW = 120;

describe('API server unavailable, slow, or answering 429/500/409', () => {
  let sc: Scenario;
  let proxy: FaultProxy;
  dumpOnFailure(() => sc);
  afterAll(async () => {
    await sc?.tearDown();
    await proxy?.close();
  });

  it('retries with backoff, loses no update, deletes nothing, and does not busy-loop', async () => {
    sc = await new Scenario('kube').setUp([], ['writer']);
    proxy = new FaultProxy(sc.peers);
    const url = await proxy.listen();
    const source = `consul-kf-${sc.id}`;
    const q = new Ingest(sc, source);
    const cfg = sc.writerConfig({ [source]: { kind: 'consul' } }, { reconcile: { fullResyncSeconds: 10 } });
    (cfg['kubernetes'] as Record<string, unknown>)['kubeconfig'] = sc.writerKubeconfig(url);
    const writer = await sc.app('writer', cfg);
    await until('leader', async () => (await writer.metric('registry_bridge_writer_leader')) === 1, 30000);
    await q.status();
    const want = new Map<string, string[]>();
    let rev = 1;
    const push = async (n: number) => {
      rev++;
      for (let i = 0; i < n; i++) {
        want.set(`svc-${i}`, [`10.66.${i}.${rev}`]);
        await q.upsert(`svc-${i}`, rev, [`10.66.${i}.${rev}`]);
      }
    };
    await push(8);
    await q.snapshot([...want.keys()]);
    await until('baseline', () => exactly(sc, want), 30000, 300);
    const t0 = Date.now();
    const observed: string[] = [];

    const phases: Array<{ name: string; fault: Fault; ms: number }> = [
      { name: '429 Retry-After on writes', fault: { kind: 'status', status: 429, writesOnly: true }, ms: 6000 },
      { name: '500 on writes', fault: { kind: 'status', status: 500, writesOnly: true }, ms: 6000 },
      { name: '409 conflict on the next 5 writes', fault: { kind: 'status', status: 409, writesOnly: true, remaining: 5 }, ms: 4000 },
      { name: '2 s latency on every request', fault: { kind: 'delay', ms: 2000 }, ms: 6000 },
      { name: 'API server gone (connections dropped)', fault: { kind: 'down' }, ms: 8000 },
    ];
    for (const p of phases) {
      const tp = Date.now();
      proxy.set(p.fault);
      await push(8); // every service changes while the fault lasts
      await sleep(p.ms);
      const during = proxy.count(tp);
      proxy.set({ kind: 'pass' });
      await until(`converged after ${p.name}`, () => exactly(sc, want), 60000, 300);
      const settle = (Date.now() - tp - p.ms) / 1000;
      observed.push(`${p.name}: ${during} requests in ${p.ms / 1000} s, converged ${settle.toFixed(1)} s after it ended`);
      expect({ phase: p.name, requests: during }).toEqual({ phase: p.name, requests: expect.any(Number) });
      expect(during).toBeLessThanOrEqual(MAX_REQUESTS_PER_FAULT_WINDOW);
    }
    expect(sc.recorder.since(t0, { type: 'DELETED' })).toEqual([]);
    // the writer counts what went wrong, by status code ('network' for dropped connections)
    const failed = (await writer.get('/metrics')).text
      .split('\n')
      .filter((l) => l.startsWith('registry_bridge_kube_requests_total{') && !l.includes('outcome="ok"'))
      .map((l) => `${/verb="([^"]+)"/.exec(l)?.[1]} ${/outcome="([^"]+)"/.exec(l)?.[1]} ${l.split(' ').pop()}`);
    expect(failed.join(' ')).toMatch(/429/);
    process.stdout.write(`[observed] kube faults:\n  ${observed.join('\n  ')}\n  writer's failed requests by verb and outcome: ${failed.join(', ')}\n`);
  });
});
