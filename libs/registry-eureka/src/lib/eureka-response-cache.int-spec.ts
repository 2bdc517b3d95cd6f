import { loadPeersEnv, type PeersEnv } from '@registry-bridge/test-peers';
import { randomBytes } from 'node:crypto';
import { EurekaRestClient } from './eureka-rest.client';
import type { RecordPort } from '@registry-bridge/source-kit';
import { EurekaSourceSyncer } from './eureka-source.syncer';

// Measures how long a registration takes to show up in what the collector reads, with Eureka's
// read-only response cache off (RB_EUREKA_URL) and on as shipped (RB_EUREKA_CACHED_URL, 30 s).
// The syncer polls every 200 ms here, so the numbers are the server's share of the latency;
// docs/collectors/eureka.md adds the collector's poll interval.

const run = randomBytes(3).toString('hex');

async function register(base: string, app: string, id: string): Promise<void> {
  const res = await fetch(`${base}/apps/${app}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({
      instance: {
        instanceId: id,
        hostName: `${id}.test.local`,
        app,
        ipAddr: '10.3.3.3',
        status: 'UP',
        port: { $: 8080, '@enabled': 'true' },
        dataCenterInfo: { '@class': 'com.netflix.appinfo.InstanceInfo$DefaultDataCenterInfo', name: 'MyOwn' },
      },
    }),
  });
  expect(res.status).toBe(204);
}

async function cancel(base: string, app: string, id: string): Promise<void> {
  await fetch(`${base}/apps/${app}/${id}`, { method: 'DELETE' }).then((r) => r.arrayBuffer());
}

async function measure(base: string, samples: number): Promise<number[]> {
  const client = new EurekaRestClient({ serviceUrls: [base] });
  const seen = new Set<string>();
  const sink: RecordPort = {
    upsert: async (r) => void seen.add(r.service),
    remove: async () => undefined,
    snapshot: async () => undefined,
    sourceStatus: async () => undefined,
  };
  const syncer = new EurekaSourceSyncer(client, sink, { source: 'latency', apps: { include: [`rbtlat-${run}-*`] }, dashboardPath: undefined });
  const out: number[] = [];
  try {
    await syncer.syncOnce();
    for (let i = 0; i < samples; i++) {
      const app = `RBTLAT-${run}-${i}`;
      const started = Date.now();
      await register(base, app, `${app}-1`);
      while (!seen.has(app.toLowerCase())) {
        if (Date.now() - started > 45_000) throw new Error(`${app} not visible after 45 s`);
        await new Promise((r) => setTimeout(r, 200));
        await syncer.syncOnce();
      }
      out.push(Date.now() - started);
      await cancel(base, app, `${app}-1`);
      // Decorrelate the next sample from the cache's 30 s timer.
      await new Promise((r) => setTimeout(r, 1000 + Math.floor(Math.random() * 7000)));
    }
  } finally {
    client.close();
  }
  return out;
}

describe('Eureka response cache: registration-to-visible latency', () => {
  let peers: PeersEnv;
  beforeAll(async () => {
    peers = await loadPeersEnv({ peers: ['eureka', 'eurekaCached'] });
  });

  it('cache off: visible at the next poll', async () => {
    const ms = await measure(peers.eureka.url, 5);
    console.log(`response cache OFF: ${ms.join(', ')} ms`);
    expect(Math.max(...ms)).toBeLessThan(2000);
  }, 120_000);

  it('cache on (as shipped): up to the 30 s cache refresh', async () => {
    const ms = await measure(peers.eureka.cachedUrl, 4);
    console.log(`response cache ON: ${ms.join(', ')} ms`);
    expect(Math.max(...ms)).toBeLessThan(32_000);
  }, 240_000);
});
