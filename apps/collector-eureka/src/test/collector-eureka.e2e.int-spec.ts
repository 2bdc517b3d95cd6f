import { E2eHarness, COLLECTOR_MAIN, WRITER_MAIN, waitFor, type KubeObject } from './e2e-harness';

// Eureka -> the built collector-eureka (two replicas) -> real Redis -> the built writer -> real
// API server. An app registered in Eureka appears as a ServiceEntry; DOWN removes its endpoint;
// killing the replica that reads Eureka moves the work within seconds; cancel deletes the
// ServiceEntry after the writer's grace period.
jest.setTimeout(240_000);

type SE = KubeObject & { spec: { hosts: string[]; endpoints?: Array<{ address: string; ports?: Record<string, number> }>; ports: Array<{ number: number; name: string; protocol: string }> } };
const addresses = (se: SE | undefined) => (se?.spec.endpoints ?? []).map((e) => e.address).sort();

const h = new E2eHarness();
const port = 19600 + Math.floor(Math.random() * 300) * 3;
const ports = { writer: port, c1: port + 1, c2: port + 2 };
const procs: Record<string, ReturnType<E2eHarness['start']>> = {};
const app = `${h.appPrefix}-ORDERS`;
const service = app.toLowerCase();

async function leaseHolder(): Promise<'c1' | 'c2' | undefined> {
  for (const name of ['c1', 'c2'] as const) {
    if (procs[name].exitCode !== null || procs[name].signalCode !== null) continue;
    const m = await h.http(ports[name], '/metrics').catch(() => undefined);
    if (m?.text.includes(`registry_bridge_eureka_source_lease_held{source="${h.source}"} 1`)) return name;
  }
  return undefined;
}

beforeAll(async () => {
  await h.setUp();
  procs['writer'] = h.start('writer', WRITER_MAIN, h.writerConfig(), ports.writer);
  // The first URL is down: every replica fails over to the real server.
  const collectorConfig = h.collectorConfig(['http://127.0.0.1:9/eureka', h.peers.eureka.url]);
  procs['c1'] = h.start('collector', COLLECTOR_MAIN, collectorConfig, ports.c1);
  procs['c2'] = h.start('collector', COLLECTOR_MAIN, collectorConfig, ports.c2);
  try {
    await waitFor('writer to lead', async () => JSON.parse((await h.http(ports.writer, '/status')).text).leader === true, 30_000, 250);
    await waitFor('both collectors ready', async () => (await h.http(ports.c1, '/health/ready')).status === 200 && (await h.http(ports.c2, '/health/ready')).status === 200, 30_000, 250);
  } catch (err) {
    process.stderr.write(h.logs.slice(-40).join(''));
    throw err;
  }
});

afterAll(async () => {
  await h.eureka('DELETE', `${app}/o1`).catch(() => undefined);
  await h.eureka('DELETE', `${app}/o2`).catch(() => undefined);
  await h.tearDown();
});

afterEach(() => {
  const state = expect.getState();
  if (state.assertionCalls !== state.numPassingAsserts) process.stderr.write(h.logs.slice(-60).join(''));
});

describe('Eureka to ServiceEntry, end to end', () => {
  it('exactly one replica reads the source', async () => {
    await waitFor('a lease holder', leaseHolder, 15_000);
    const held = await Promise.all([ports.c1, ports.c2].map(async (p) => (await h.http(p, '/metrics')).text.includes(`registry_bridge_eureka_source_lease_held{source="${h.source}"} 1`)));
    expect(held.filter(Boolean)).toHaveLength(1);
  });

  it('an app registered in Eureka appears as a ServiceEntry', async () => {
    const started = Date.now();
    expect(await h.register(app, 'o1', '10.20.0.1')).toBe(204);
    const se = await waitFor('ServiceEntry of the app', async () => (await h.serviceEntryFor(service)) as SE | undefined, 30_000);
    process.stdout.write(`register -> ServiceEntry: ${Date.now() - started} ms\n`);
    expect(se.spec.hosts).toEqual([`${service}.eureka`]);
    expect(addresses(se)).toEqual(['10.20.0.1']);
    expect(se.spec.ports[0]).toMatchObject({ number: 8080, protocol: 'HTTP' });
    expect(se.metadata.labels).toMatchObject({ 'registry-bridge.io/source': h.source });
  });

  it('DOWN removes the endpoint and keeps the ServiceEntry', async () => {
    expect(await h.register(app, 'o2', '10.20.0.2')).toBe(204);
    await waitFor('two endpoints', async () => addresses((await h.serviceEntryFor(service)) as SE).length === 2);
    const started = Date.now();
    expect(await h.register(app, 'o1', '10.20.0.1', 'DOWN')).toBe(204);
    await waitFor('o1 gone from the endpoints', async () => addresses((await h.serviceEntryFor(service)) as SE).join() === '10.20.0.2');
    process.stdout.write(`DOWN -> endpoint removed: ${Date.now() - started} ms\n`);
  });

  it('when the reading replica dies, the other takes over within seconds', async () => {
    const holder = await waitFor('a lease holder', leaseHolder, 15_000);
    const other = holder === 'c1' ? 'c2' : 'c1';
    await h.stop(procs[holder], 'SIGKILL');
    const started = Date.now();
    // A change made right after the crash must still arrive.
    expect(await h.register(app, 'o1', '10.20.0.1', 'UP')).toBe(204);
    await waitFor('the other replica to hold the lease', async () => (await leaseHolder()) === other, 20_000);
    await waitFor('o1 back in the endpoints', async () => addresses((await h.serviceEntryFor(service)) as SE).length === 2, 20_000);
    const took = Date.now() - started;
    process.stdout.write(`replica killed -> change applied by the other replica: ${took} ms\n`);
    expect(took).toBeLessThan(15_000);
  });

  it('cancel deletes the ServiceEntry after the grace period', async () => {
    const started = Date.now();
    expect(await h.eureka('DELETE', `${app}/o1`)).toBe(200);
    expect(await h.eureka('DELETE', `${app}/o2`)).toBe(200);
    await waitFor('ServiceEntry deleted', async () => (await h.serviceEntryFor(service)) === undefined, 30_000, 250);
    const took = Date.now() - started;
    process.stdout.write(`cancel -> ServiceEntry deleted: ${took} ms (empty-registry hold 2 s, writer grace 3 s)\n`);
    expect(took).toBeGreaterThanOrEqual(5000);
  });

  it('serves health and metrics', async () => {
    const alive = (['c1', 'c2'] as const).find((n) => procs[n].exitCode === null && procs[n].signalCode === null) ?? 'c1';
    expect((await h.http(ports[alive], '/health/live')).status).toBe(200);
    expect((await h.http(ports[alive], '/health/ready')).status).toBe(200);
    const metrics = (await h.http(ports[alive], '/metrics')).text;
    for (const name of ['registry_bridge_eureka_fetches_total', 'registry_bridge_eureka_deltas_applied_total', 'registry_bridge_eureka_full_fetches_total', 'registry_bridge_eureka_self_preservation', 'registry_bridge_collector_last_success_timestamp_seconds']) {
      expect(metrics).toContain(name);
    }
  });
});
