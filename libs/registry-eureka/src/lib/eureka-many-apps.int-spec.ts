import { loadPeersEnv, type PeersEnv } from '@registry-bridge/test-peers';
import { randomBytes } from 'node:crypto';
import { EurekaRestClient } from './eureka-rest.client';
import type { RecordPort } from '@registry-bridge/source-kit';
import { EurekaSourceSyncer } from './eureka-source.syncer';

// Many apps on the real Eureka (response cache off): one full fetch reads them all, then a burst
// of status changes arrives as deltas that agree with apps__hashcode, and only the apps that
// changed are sent. Size with RB_EUREKA_IT_APPS (default 100 apps x 3 instances).

const run = randomBytes(3).toString('hex');
const APPS = Number(process.env['RB_EUREKA_IT_APPS'] ?? 100);
const PER_APP = 3;

describe('many apps on the real Eureka', () => {
  let peers: PeersEnv;
  const registered: Array<[string, string]> = [];

  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${peers.eureka.url}/apps/${path}`, { method, headers: { 'Content-Type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
    await res.arrayBuffer();
    return res.status;
  };
  const instance = (app: string, id: string, i: number, status = 'UP') => ({
    instance: {
      instanceId: id,
      hostName: `${id}.test.local`,
      app,
      ipAddr: `10.${50 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`,
      status,
      port: { $: 8080, '@enabled': 'true' },
      dataCenterInfo: { '@class': 'com.netflix.appinfo.InstanceInfo$DefaultDataCenterInfo', name: 'MyOwn' },
    },
  });

  beforeAll(async () => {
    peers = await loadPeersEnv({ peers: ['eureka'] });
  });
  afterAll(async () => {
    for (let i = 0; i < registered.length; i += 50) await Promise.all(registered.slice(i, i + 50).map(([app, id]) => call('DELETE', `${app}/${id}`)));
  });

  it(`reads ${APPS} apps x ${PER_APP} instances, then applies a burst of changes as deltas`, async () => {
    const started = Date.now();
    const jobs: Array<() => Promise<number>> = [];
    for (let a = 0; a < APPS; a++) {
      for (let k = 0; k < PER_APP; k++) {
        const app = `RBTMANY-${run}-${a}`;
        const id = `${app}-${k}`;
        registered.push([app, id]);
        jobs.push(() => call('POST', app, instance(app, id, a * PER_APP + k)));
      }
    }
    for (let i = 0; i < jobs.length; i += 25) expect(new Set(await Promise.all(jobs.slice(i, i + 25).map((j) => j())))).toEqual(new Set([204]));
    const registerMs = Date.now() - started;

    const upserted: string[] = [];
    const sink: RecordPort = {
      upsert: async (r) => void upserted.push(r.service),
      remove: async () => undefined,
      snapshot: async () => undefined,
      sourceStatus: async () => undefined,
    };
    const counts = { mismatch: 0, deltas: 0 };
    const fetchMs: Record<string, number[]> = { full: [], delta: [] };
    const client = new EurekaRestClient({ serviceUrls: [peers.eureka.url] });
    const syncer = new EurekaSourceSyncer(
      client,
      sink,
      { source: 'eureka-many', apps: { include: [`rbtmany-${run}-*`] }, dashboardPath: undefined },
      { hashMismatch: () => void counts.mismatch++, deltaApplied: () => void counts.deltas++, fetch: (kind, _o, s) => void fetchMs[kind].push(Math.round(s * 1000)) },
    );
    try {
      const t0 = performance.now();
      expect(await syncer.syncOnce()).toMatchObject({ mode: 'full', upserts: APPS });
      const fullSyncMs = Math.round(performance.now() - t0);

      // A burst: the first instance of every fifth app goes DOWN.
      const changed = new Set<string>();
      for (let a = 0; a < APPS; a += 5) {
        const app = `RBTMANY-${run}-${a}`;
        changed.add(app.toLowerCase());
        expect(await call('POST', app, instance(app, `${app}-0`, a * PER_APP, 'DOWN'))).toBe(204);
      }
      upserted.length = 0;
      const t1 = performance.now();
      const r = await syncer.syncOnce();
      const deltaSyncMs = Math.round(performance.now() - t1);
      expect(r).toMatchObject({ mode: 'delta', hashMismatch: false, upserts: changed.size, unchanged: APPS - changed.size });
      expect(new Set(upserted)).toEqual(changed);
      expect(counts.mismatch).toBe(0);
      process.stdout.write(
        `${APPS * PER_APP} instances: registered in ${registerMs} ms; full fetch ${fetchMs['full'].join()} ms, full sync ${fullSyncMs} ms; ` +
          `delta of ${changed.size} changes ${fetchMs['delta'].join()} ms, delta sync ${deltaSyncMs} ms\n`,
      );
    } finally {
      client.close();
    }
  }, 180_000);
});
