import { Message, RecordProducer } from '@registry-bridge/contract';
import { CloudMap, loadPeersEnv, PeersEnv } from '@registry-bridge/test-peers';
import { Redis } from 'ioredis';
import { createCloudMapClient } from './cloudmap-api.client';
import { CloudMapApi, cloudMapSourceSchema, CloudMapSourceInput, toSourceOptions } from './cloudmap-config.schema';
import { CloudMapReader } from './cloudmap-reader.service';
import { CloudMapWatcher } from './cloudmap-watcher.service';
import { cloudMapEmitter, WatcherCoordination } from './cloudmap-watcher.ports';
import { RedisRequestBudget } from './redis-request-budget.service';
import { sleep } from './request-budget.service';

interface Harness {
  watcher: CloudMapWatcher;
  close: () => void;
  messages: Message[];
  requests: Array<{ api: CloudMapApi; at: number }>;
}

let peers: PeersEnv;
let redis: Redis;
let fx: CloudMap;
const harnesses: Harness[] = [];

beforeAll(async () => {
  // Fails (never skips) with "run `bash scripts/peers.sh up`" when moto or Redis is missing.
  peers = await loadPeersEnv({ peers: ['cloudMap', 'redis'] });
  redis = new Redis(peers.redisUrl, { maxRetriesPerRequest: 1 });
  fx = new CloudMap(peers);
});

afterEach(async () => {
  await Promise.all(harnesses.splice(0).map((h) => h.watcher.stop().then(h.close)));
});

afterAll(async () => {
  fx?.close();
  await redis?.quit();
});

function harness(over: Partial<CloudMapSourceInput>, coordination?: WatcherCoordination): Harness {
  const config = toSourceOptions(
    cloudMapSourceSchema.parse({
      name: `cm-${fx.suffix}`,
      region: peers.cloudMap.region,
      endpoint: peers.cloudMap.endpoint,
      verifyServiceNamespace: true,
      budget: { GetService: { rps: 500 }, ListInstances: { rps: 100 }, GetInstancesHealthStatus: { rps: 100 } },
      ...over,
    }),
  );
  const messages: Message[] = [];
  const requests: Harness['requests'] = [];
  const client = createCloudMapClient(config, {
    budget: new RedisRequestBudget(redis, config.name, config),
    credentials: { accessKeyId: peers.cloudMap.accessKeyId, secretAccessKey: peers.cloudMap.secretAccessKey },
  });
  // Counts what reaches the wire: one entry per HTTP request (SDK retries are off).
  client.middlewareStack.add(
    (next, context) => async (args) => {
      requests.push({ api: String(context.commandName).replace(/Command$/, '') as CloudMapApi, at: Date.now() });
      return next(args);
    },
    { step: 'finalizeRequest', name: 'countRequests' },
  );
  const sink = new RecordProducer({ add: async (_n, data) => void messages.push(data as Message) });
  const emitter = cloudMapEmitter(config.name, { port: sink });
  const watcher = new CloudMapWatcher(config, { reader: new CloudMapReader(client, config), emitter, coordination });
  const h = { watcher, messages, requests, close: () => client.destroy() };
  harnesses.push(h);
  return h;
}

async function until(fn: () => boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!fn()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms`);
    await sleep(50);
  }
}

const upserts = (messages: Message[]) => messages.flatMap((m) => (m.type === 'upsert' ? [m.record] : []));
const lastUpsert = (messages: Message[], service: string) => upserts(messages).filter((r) => r.service === service).pop();

describe('CloudMapWatcher against moto', () => {
  it('reads HTTP, private DNS and public DNS namespaces; scope = namespace name; complete snapshot', async () => {
    const http = fx.name('http.local');
    const priv = fx.name('priv.internal');
    const pub = fx.name('pub.example.com');
    const [nsHttp, nsPriv, nsPub] = await Promise.all([fx.namespace(http, 'HTTP'), fx.namespace(priv, 'DNS_PRIVATE'), fx.namespace(pub, 'DNS_PUBLIC')]);
    const s1 = await fx.service(nsHttp, 'orders');
    const s2 = await fx.service(nsPriv, 'billing');
    const s3 = await fx.service(nsPub, 'www');
    await fx.register(s1, 'o-1', { AWS_INSTANCE_IPV4: '10.1.0.1', AWS_INSTANCE_PORT: '8080', AVAILABILITY_ZONE: 'us-east-1a', version: 'v1' });
    await fx.register(s2, 'b-1', { AWS_INSTANCE_IPV6: '2001:db8::7', AWS_INSTANCE_PORT: '443', protocol: 'HTTPS' });
    await fx.register(s3, 'w-1', { AWS_INSTANCE_CNAME: 'www.backend.example.net' });
    await fx.register(s3, 'w-bad', { AWS_INSTANCE_IPV4: '300.1.1.1' });

    const { watcher, messages } = harness({ namespaces: { names: [http, priv, pub] } });
    expect(await watcher.runInventory()).toBe(true);
    await watcher.runPollCycle();

    const snapshot = messages.find((m) => m.type === 'snapshot');
    expect(snapshot).toMatchObject({ complete: true });
    expect(snapshot?.type === 'snapshot' && [...snapshot.services].sort((a, b) => a.service.localeCompare(b.service))).toEqual([
      { service: 'billing', scope: priv },
      { service: 'orders', scope: http },
      { service: 'www', scope: pub },
    ]);
    expect(lastUpsert(messages, 'orders')).toMatchObject({
      scope: http,
      ports: [{ name: 'port', number: 8080 }],
      endpoints: [{ id: 'o-1', address: '10.1.0.1', health: 'healthy', locality: 'us-east-1/us-east-1a', labels: { version: 'v1' } }],
      metadata: { 'cloudmap.namespace-type': 'HTTP' },
    });
    expect(lastUpsert(messages, 'billing')).toMatchObject({
      scope: priv,
      ports: [{ name: 'https', number: 443, protocol: 'HTTPS' }],
      endpoints: [{ address: '2001:db8::7' }],
      metadata: { 'cloudmap.namespace-type': 'DNS_PRIVATE' },
    });
    expect(lastUpsert(messages, 'www')?.endpoints.map((e) => e.address)).toEqual(['www.backend.example.net']);
  });

  it('follows register, deregister and custom health changes (health by the periodic re-read)', async () => {
    const ns = fx.name('life.local');
    const nsId = await fx.namespace(ns, 'HTTP');
    const svc = await fx.service(nsId, 'api', 'custom');
    await fx.register(svc, 'a', { AWS_INSTANCE_IPV4: '10.2.0.1', AWS_INSTANCE_PORT: '80' });
    const { watcher, messages, requests } = harness({ namespaces: { names: [ns] }, intervals: { healthSeconds: 2 } });
    await watcher.runInventory();
    await watcher.runPollCycle();
    expect(lastUpsert(messages, 'api')?.endpoints.map((e) => e.id)).toEqual(['a']);

    await fx.register(svc, 'b', { AWS_INSTANCE_IPV4: '10.2.0.2', AWS_INSTANCE_PORT: '80' });
    await watcher.runPollCycle();
    expect(lastUpsert(messages, 'api')?.endpoints.map((e) => e.id)).toEqual(['a', 'b']);

    await fx.deregister(svc, 'a');
    await watcher.runPollCycle();
    expect(lastUpsert(messages, 'api')?.endpoints.map((e) => e.id)).toEqual(['b']);

    // A health change leaves the revision alone: the next cycle only asks for the revision...
    const before = upserts(messages).length;
    await fx.setHealth(svc, 'b', 'UNHEALTHY');
    const discovers = requests.filter((r) => r.api === 'DiscoverInstances').length;
    await watcher.runPollCycle();
    expect(requests.filter((r) => r.api === 'DiscoverInstances')).toHaveLength(discovers);
    expect(upserts(messages)).toHaveLength(before);
    // ...and the health re-read picks it up.
    await sleep(2300);
    await watcher.runPollCycle();
    expect(lastUpsert(messages, 'api')?.endpoints.map((e) => [e.id, e.health])).toEqual([['b', 'unhealthy']]);
  });

  it('reads past one page of instances (DiscoverInstances full -> paginated ListInstances + GetInstancesHealthStatus)', async () => {
    const ns = fx.name('big.local');
    const nsId = await fx.namespace(ns, 'HTTP');
    const svc = await fx.service(nsId, 'fleet', 'custom');
    const total = 1005;
    for (let i = 0; i < total; i += 25) {
      await Promise.all(
        Array.from({ length: Math.min(25, total - i) }, (_, k) => fx.register(svc, `i-${String(i + k).padStart(4, '0')}`, { AWS_INSTANCE_IPV4: `10.3.${(i + k) >> 8}.${(i + k) & 255}` })),
      );
    }
    await fx.setHealth(svc, 'i-0007', 'UNHEALTHY');
    const { watcher, messages, requests } = harness({ namespaces: { names: [ns] } });
    await watcher.runInventory();
    await watcher.runPollCycle();
    const rec = lastUpsert(messages, 'fleet');
    expect(rec?.endpoints).toHaveLength(total);
    expect(rec?.endpoints.find((e) => e.id === 'i-0007')?.health).toBe('unhealthy');
    expect(requests.filter((r) => r.api === 'ListInstances')).toHaveLength(11);
    expect(requests.filter((r) => r.api === 'GetInstancesHealthStatus')).toHaveLength(11);
  }, 180_000);

  it('namespace filter by pattern and type, service deny list', async () => {
    const keep = fx.name('keep.local');
    const skip = fx.name('skip.local');
    const [k, s] = await Promise.all([fx.namespace(keep, 'HTTP'), fx.namespace(skip, 'HTTP')]);
    await fx.service(k, 'api');
    await fx.service(k, 'api-canary');
    await fx.service(s, 'other');
    const { watcher, messages } = harness({ namespaces: { patterns: [`keep.local-${fx.suffix}`, 'nomatch-*'], types: ['HTTP'] }, services: { deny: ['*-canary'] } });
    await watcher.runInventory();
    expect(messages.find((m) => m.type === 'snapshot')).toMatchObject({ services: [{ service: 'api', scope: keep }] });
  });

  it('holds the request budget for the sum of two replicas under many services', async () => {
    const ns = fx.name('many.local');
    const nsId = await fx.namespace(ns, 'HTTP');
    const count = 40;
    for (let i = 0; i < count; i += 20) {
      await Promise.all(
        Array.from({ length: 20 }, async (_, k) => {
          const id = await fx.service(nsId, `svc-${i + k}`);
          await fx.register(id, 'x', { AWS_INSTANCE_IPV4: '10.4.0.1' });
        }),
      );
    }
    // Well below what moto serves, so the budget (not the peer) is what limits.
    const budget = { DiscoverInstancesRevision: { rps: 12, burst: 3 }, DiscoverInstances: { rps: 8, burst: 3 }, GetService: { rps: 1000 } };
    const over = { name: `cm-budget-${fx.suffix}`, namespaces: { names: [ns] }, budget, intervals: { revisionSeconds: 0.5, healthSeconds: 3 }, concurrency: 16 };
    const even = (key: string) => [...key].reduce((a, c) => a + c.charCodeAt(0), 0) % 2 === 0;
    const a = harness(over, { owns: even, leaseFor: async () => true });
    const b = harness(over, { owns: (key) => !even(key), leaseFor: async () => false });
    const start = Date.now();
    a.watcher.start();
    b.watcher.start();
    await sleep(12_000);
    await Promise.all([a.watcher.stop(), b.watcher.stop()]);
    const all = [...a.requests, ...b.requests];
    const elapsed = (Math.max(...all.map((r) => r.at)) - start) / 1000;
    for (const [api, { rps, burst }] of Object.entries(budget) as Array<[CloudMapApi, { rps: number; burst?: number }]>) {
      if (api === 'GetService') continue;
      const n = all.filter((r) => r.api === api).length;
      // Token bucket bound over the whole run; and it was the limit (the poll alone wants far more).
      expect(n).toBeLessThanOrEqual((burst ?? rps) + rps * elapsed + 1);
      // and in any one-second window
      const times = all.filter((r) => r.api === api).map((r) => r.at);
      // It was the budget that limited: from its first request on, the API ran near its rate
      // (moto's accumulated state makes the first inventory slow, hence not from start).
      expect(n).toBeGreaterThan(rps * ((Math.max(...times) - Math.min(...times)) / 1000) * 0.7);
      const worst = Math.max(...times.map((t) => times.filter((u) => u >= t && u < t + 1000).length));
      expect(worst).toBeLessThanOrEqual((burst ?? rps) + rps + 1);
    }
    process.stdout.write(
      `[measure] budget, 2 replicas, ${count} services, ${elapsed.toFixed(1)} s: ` +
        (Object.keys(budget) as CloudMapApi[])
          .map((api) => `${api} ${all.filter((r) => r.api === api).length} (budget ${budget[api as keyof typeof budget].rps}/s)`)
          .join(', ') +
        '\n',
    );
    // Both replicas polled, and between them every service was read.
    const read = new Set([...upserts(a.messages), ...upserts(b.messages)].map((r) => r.service));
    expect(read.size).toBe(count);
    expect(upserts(a.messages).length).toBeGreaterThan(0);
    expect(upserts(b.messages).length).toBeGreaterThan(0);
  }, 120_000);

  it('default cadences and budgets: 300 services read, then a change seen within seconds', async () => {
    const ns = fx.name('scale.local');
    const nsId = await fx.namespace(ns, 'HTTP');
    const count = 300;
    const ids: string[] = [];
    for (let i = 0; i < count; i += 25) {
      ids.push(
        ...(await Promise.all(
          Array.from({ length: 25 }, async (_, k) => {
            const id = await fx.service(nsId, `s-${i + k}`);
            await fx.register(id, 'x', { AWS_INSTANCE_IPV4: '10.5.0.1', AWS_INSTANCE_PORT: '80' });
            return id;
          }),
        )),
      );
    }
    const { watcher, messages, requests } = harness({ name: `cm-scale-${fx.suffix}`, namespaces: { names: [ns] } });
    const t0 = Date.now();
    watcher.start();
    await until(() => new Set(upserts(messages).map((r) => r.service)).size === count, 60_000);
    const tAll = Date.now() - t0;
    await sleep(6000); // into the steady state
    const t1 = Date.now();
    await fx.register(ids[150], 'y', { AWS_INSTANCE_IPV4: '10.5.0.2', AWS_INSTANCE_PORT: '80' });
    await until(() => (lastUpsert(messages, 's-150')?.endpoints.length ?? 0) === 2, 30_000);
    const tChange = Date.now() - t1;
    const steady = requests.filter((r) => r.at >= t1 - 6000 && r.at < t1);
    const perSecond = (api: CloudMapApi) => (steady.filter((r) => r.api === api).length / 6).toFixed(1);
    process.stdout.write(
      `[measure] ${count} services, defaults: all read in ${tAll} ms; change seen in ${tChange} ms; steady DiscoverInstancesRevision ${perSecond('DiscoverInstancesRevision')}/s, DiscoverInstances ${perSecond('DiscoverInstances')}/s\n`,
    );
    expect(tChange).toBeLessThan(12_000);
  }, 180_000);
});
