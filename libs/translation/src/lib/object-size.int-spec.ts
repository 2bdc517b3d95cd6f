import { ServiceRecord } from '@registry-bridge/contract';
import { KubeAdmin, kubePath, loadPeersEnv } from '@registry-bridge/test-peers';
import { testRules } from './source-rules.testing';
import { OBJECT_BYTE_BUDGET } from './object-budget.util';
import { translateRecord } from './translate';
import type { ServiceEntryObject } from './translation.types';

// The byte budget against the real API server (bash scripts/peers.sh up): an object written
// within it is stored, with the managed fields the server adds, and one over the storage limit is
// refused on every try, which is why the translator cuts endpoints instead of letting it retry.

jest.setTimeout(120_000); // multi-megabyte requests on a loaded 2-core machine

const rules = testRules({ installation: 'size-it', namespace: `size-${process.pid}-${Date.now()}` });

// 4,096 instances (the inline CRD limit), each with twenty 63-character metadata labels: 6.9 MB of endpoints.
const labels = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`meta-${i}`, 'v'.repeat(63)]));
const record: ServiceRecord = {
  source: { name: 'consul-dc1', kind: 'consul' },
  service: 'big',
  ports: [{ name: 'http', number: 8080, protocol: 'HTTP' }],
  endpoints: Array.from({ length: 4096 }, (_, i) => ({ id: `e${String(i).padStart(5, '0')}`, address: `10.60.${i >> 8}.${i & 255}`, ports: {}, labels, health: 'healthy' as const, locality: 'dc1/zone-a', weight: 1 })),
  metadata: {},
  revision: 1,
  observedAt: '2026-12-06T08:00:00.000Z',
};

describe('object byte budget against the real API server', () => {
  let admin: KubeAdmin;

  beforeAll(async () => {
    admin = KubeAdmin.forPeers(await loadPeersEnv({ peers: ['kube'] }));
    await admin.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: rules.namespace } });
  });
  afterAll(async () => {
    await admin?.deleteNamespace(rules.namespace);
  });

  const apply = (se: ServiceEntryObject) =>
    admin.call<{ metadata?: { managedFields?: unknown[] }; spec?: { endpoints?: unknown[] }; message?: string }>(
      'PATCH',
      `${kubePath('ServiceEntry', se.metadata.namespace, se.metadata.name)}?fieldManager=registry-bridge&force=true`,
      se,
      'application/apply-patch+yaml',
    );

  it('stores the translated object, cut to the budget, as the writer applies it', async () => {
    const r = translateRecord(record, rules);
    if (!r.ok) throw new Error(r.detail);
    const written = r.serviceEntry.spec.endpoints?.length ?? 0;
    expect(written).toBeLessThan(4096);
    expect(r.dropCounts['endpoint-over-size']).toBe(4096 - written);
    const res = await apply(r.serviceEntry);
    expect([res.status, res.body.message]).toEqual([201, undefined]);
    const stored = await admin.must<{ spec: { endpoints: unknown[] } }>('GET', kubePath('ServiceEntry', rules.namespace, r.serviceEntry.metadata.name));
    expect(stored.spec.endpoints).toHaveLength(written);
    process.stdout.write(`[measure] ${written} of 4,096 endpoints written; sent ${Buffer.byteLength(JSON.stringify(r.serviceEntry))} B, stored ${Buffer.byteLength(JSON.stringify(stored))} B (budget ${OBJECT_BYTE_BUDGET} B)\n`);
  });

  // what the translator wrote before the budget: 1,000 endpoints are about 1.6 MB (over etcd's
  // 1.5 MiB request limit), 1,500 about 2.4 MB (over the API server's 2 MiB message to etcd)
  it.each([1000, 1500])('an object with %i of these endpoints is refused by the API server (retrying cannot help)', async (n) => {
    const r = translateRecord(record, rules);
    if (!r.ok) throw new Error(r.detail);
    const over: ServiceEntryObject = {
      ...r.serviceEntry,
      metadata: { ...r.serviceEntry.metadata, name: `${r.serviceEntry.metadata.name}-${n}` },
      spec: { ...r.serviceEntry.spec, endpoints: record.endpoints.slice(0, n).map((e) => ({ address: e.address, labels: e.labels, locality: e.locality, weight: e.weight })) },
    };
    const bytes = Buffer.byteLength(JSON.stringify(over));
    expect(bytes).toBeGreaterThan(1.5 * 1024 * 1024);
    const res = await apply(over);
    process.stdout.write(`[measure] ${n} endpoints, ${bytes} B: ${res.status} ${res.body.message}\n`);
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.body.message).toMatch(/too large|larger than max/i);
  });
});
