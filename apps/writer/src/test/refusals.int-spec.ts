import { KubeObject } from '@registry-bridge/kube';
import { consulRecord, waitFor, WriterHarness } from './writer-harness';

// Refusals against the real API server, written by the built writer with the least-privilege
// identity: where they are recorded, what happens to an object written before its key became
// refused, what the API server rejects for good, and the objects nothing selects any more.
jest.setTimeout(180_000);

const h = new WriterHarness();
const port = 19800 + Math.floor(Math.random() * 100) * 2;

type Status = {
  hostCollisions: { scope: string; error?: string };
  refused: Record<string, { reason: string; detail: string; object?: { object: string; state: string; held?: string } }>;
  tcpWithoutAddress: { count: number; entries: string[] };
  lastResync: { at: string; orphanWorkloadEntries: number } | null;
};
type SE = KubeObject & { spec: { endpoints?: Array<{ address: string }>; resolution: string } };
const status = async () => (await h.http<Status>(port, '/status')).body;
const metric = async (name: string, labels: string) => Number(new RegExp(`^${name}${labels ? `\\{${labels}\\}` : ''} (\\d+)`, 'm').exec((await h.http<string>(port, '/metrics')).body)?.[1] ?? 0);
const consul = { name: 'consul-dc1', kind: 'consul' } as const;

beforeAll(async () => {
  await h.setUp();
  const cfg = h.config({
    sources: {
      'consul-dc1': { kind: 'consul' },
      'consul-strict': { kind: 'consul', allowedHostSuffixes: ['.example.internal'] },
      'eureka-a': { kind: 'eureka', endpointMode: 'workloadEntry' },
    },
  });
  h.startWriter(cfg, port);
  await waitFor('writer to lead', async () => (await h.http<{ leader: boolean }>(port, '/status').catch(() => ({ body: { leader: false } }))).body.leader, 30_000, 250);
  await h.status('consul-dc1');
});

const other = `${h.namespace}-other`;

afterAll(async () => {
  await h.admin.delete('v1', 'Namespace', '', other).catch(() => undefined);
  await h.tearDown();
});

afterEach(() => {
  const state = expect.getState();
  if (state.assertionCalls !== state.numPassingAsserts) process.stderr.write(h.logs.slice(-40).join(''));
});

it('records a Warning Event on the writer\'s Lease for a refused service that never had an object', async () => {
  await h.producer.upsert({ ...consulRecord('outside', 1, [{ id: 'o', address: '10.7.0.1', health: 'healthy' }]), source: { name: 'consul-strict', kind: 'consul' } });
  await waitFor('outside refused', async () => (await status()).refused['consul-strict//outside']);
  const event = await waitFor('a Refused event on the Lease', async () => (await h.events()).find((e) => e.reason === 'Refused' && /consul-strict\/\/outside/.test(e.message)));
  expect(event.type).toBe('Warning');
  expect(event.involvedObject).toMatchObject({ kind: 'Lease', name: 'writer', namespace: h.namespace });
  expect(event.message).toMatch(/host-not-allowed: host "outside\.service\.consul" is outside the allowed suffixes/);
  expect(await h.seByService('outside')).toBeUndefined();
});

it('empties the ServiceEntry of a key refused after it was written at once, and deletes it under the deletion rules', async () => {
  await h.producer.upsert(consulRecord('shrinks', 1, [{ id: 's', address: '10.7.1.1', health: 'healthy' }]));
  const before = (await waitFor('shrinks written', () => h.seByService('shrinks'))) as SE;
  expect(before.spec.endpoints?.map((e) => e.address)).toEqual(['10.7.1.1']);
  // The registry now lists no port for it: refused (no-ports), and its old endpoints must not stay.
  await h.producer.upsert(consulRecord('shrinks', 2, [{ id: 's', address: '10.7.1.1', health: 'healthy' }], { ports: [] }));
  const emptied = (await waitFor('shrinks emptied', async () => {
    const se = (await h.seByService('shrinks')) as SE | undefined;
    return se && !se.spec.endpoints?.length && se;
  })) as SE;
  expect(emptied.spec.resolution).toBe('STATIC');
  expect(emptied.metadata.annotations?.['registry-bridge.io/refused']).toMatch(/^no-ports: /);
  // No complete snapshot yet: the deletion waits, and says so.
  const held = await waitFor('refusal reported with its object', async () => (await status()).refused['consul-dc1//shrinks']?.object);
  expect(held).toMatchObject({ object: `${h.namespace}/${before.metadata.name}`, state: 'emptied' });
  expect(held.held).toMatch(/^no-complete-snapshot/);
  expect(await metric('registry_bridge_refused_objects_total', 'source="consul-dc1",action="emptied"')).toBeGreaterThanOrEqual(1);
  // A complete snapshot that still lists it (the registry has the service) lets the deletion go ahead after the grace period.
  await h.producer.snapshot({ source: consul, epoch: 1, complete: true, services: [{ service: 'shrinks' }], observedAt: new Date().toISOString() });
  await h.status('consul-dc1');
  await waitFor('shrinks deleted', async () => !(await h.seByService('shrinks')), 30_000);
  expect((await status()).refused['consul-dc1//shrinks']).toMatchObject({ reason: 'no-ports', object: { state: 'deleted' } });
  expect(await metric('registry_bridge_refused_objects_total', 'source="consul-dc1",action="deleted"')).toBe(1);
  // Accepted again: written again.
  await h.producer.upsert(consulRecord('shrinks', 3, [{ id: 's', address: '10.7.1.2', health: 'healthy' }]));
  const back = (await waitFor('shrinks back', () => h.seByService('shrinks'))) as SE;
  expect(back.spec.endpoints?.map((e) => e.address)).toEqual(['10.7.1.2']);
  expect(back.metadata.annotations?.['registry-bridge.io/refused']).toBeUndefined();
});

it('keeps the ServiceEntry of a service left with no instance (and so no port), empty, past the grace period', async () => {
  await h.producer.upsert(consulRecord('drained', 1, [{ id: 'd', address: '10.7.3.1', health: 'healthy' }]));
  const before = (await waitFor('drained written', () => h.seByService('drained'))) as SE;
  // Every instance is gone: no endpoint and so no port. No traffic, but VirtualServices may name the host.
  await h.producer.upsert(consulRecord('drained', 2, [], { ports: [] }));
  await h.producer.snapshot({ source: consul, epoch: 2, complete: true, services: [{ service: 'drained' }, { service: 'shrinks' }], observedAt: new Date().toISOString() });
  await h.status('consul-dc1');
  await waitFor('drained emptied', async () => {
    const se = (await h.seByService('drained')) as SE | undefined;
    return se && !se.spec.endpoints?.length;
  });
  const seen = (await status()).lastResync?.at;
  await waitFor('two resyncs past the grace period', async () => {
    const at = (await status()).lastResync?.at;
    return at !== seen && at;
  }, 20_000);
  await new Promise((r) => setTimeout(r, 6000));
  const kept = (await h.seByService('drained')) as SE | undefined;
  expect(kept?.metadata.uid).toBe(before.metadata.uid);
  expect(kept?.spec.endpoints ?? []).toEqual([]);
  expect((await status()).refused['consul-dc1//drained']?.object).toMatchObject({ state: 'emptied', held: expect.stringMatching(/^no instances/) });
});

it('refuses an object the API server rejects for good (an admission policy), with the reason, and does not send it again', async () => {
  // A cluster policy (here a ValidatingAdmissionPolicy, as Gatekeeper or Kyverno would be) that
  // denies one host in this test's namespace: the API server answers 422 on every apply, so a retry
  // can never succeed. (An object over the size limits never gets this far: the translator cuts it.)
  const name = `rb-deny-${h.namespace}`.slice(0, 63);
  await h.admin.create({
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'ValidatingAdmissionPolicy',
    metadata: { name },
    spec: {
      failurePolicy: 'Fail',
      matchConstraints: { resourceRules: [{ apiGroups: ['networking.istio.io'], apiVersions: ['*'], operations: ['CREATE', 'UPDATE'], resources: ['serviceentries'] }] },
      validations: [{ expression: "!object.spec.hosts.exists(h, h.startsWith('denied-by-policy.'))", message: 'hosts denied-by-policy.* are not allowed here' }],
    },
  } as KubeObject);
  await h.admin.create({
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'ValidatingAdmissionPolicyBinding',
    metadata: { name },
    spec: { policyName: name, validationActions: ['Deny'], matchResources: { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': h.namespace } } } },
  } as KubeObject);
  try {
    // The API server enforces a new policy once its informers have it: wait until a dry run is denied.
    const probe = { apiVersion: 'networking.istio.io/v1', kind: 'ServiceEntry', metadata: { name: 'policy-probe', namespace: h.namespace }, spec: { hosts: ['denied-by-policy.probe'], resolution: 'STATIC', ports: [{ number: 80, name: 'http' }] } };
    await waitFor('the admission policy in force', () => h.admin.apply(probe as KubeObject, { dryRun: true }).then(() => false, (e: Error) => /denied-by-policy/.test(e.message)), 30_000, 200);
    await h.producer.upsert(consulRecord('denied-by-policy', 1, [{ id: 'd-1', address: '10.70.0.1', health: 'healthy' as const }]));
    const refused = await waitFor('denied-by-policy refused', async () => (await status()).refused['consul-dc1//denied-by-policy'], 60_000);
    expect(refused.reason).toBe('rejected');
    expect(refused.detail).toMatch(/HTTP 422/);
    expect(refused.detail).toMatch(/denied-by-policy\.\* are not allowed here/);
    expect(await h.seByService('denied-by-policy')).toBeUndefined();
    expect(await metric('registry_bridge_refused_total', 'source="consul-dc1",reason="rejected"')).toBeGreaterThanOrEqual(1);
    const rejectedApplies = () => metric('registry_bridge_kube_requests_total', 'verb="apply",kind="ServiceEntry",outcome="422"');
    const after = await rejectedApplies();
    expect(after).toBeGreaterThanOrEqual(1);
    // Two more full resyncs (5 s each) reconcile the key again without sending it again.
    const seen = (await status()).lastResync?.at;
    await waitFor('two resyncs', async () => {
      const at = (await status()).lastResync?.at;
      return at !== seen && at;
    }, 20_000);
    await new Promise((r) => setTimeout(r, 6000));
    expect(await rejectedApplies()).toBe(after);
    expect((await status()).refused['consul-dc1//denied-by-policy']?.reason).toBe('rejected');
  } finally {
    await h.admin.delete('admissionregistration.k8s.io/v1', 'ValidatingAdmissionPolicyBinding', '', name).catch(() => undefined);
    await h.admin.delete('admissionregistration.k8s.io/v1', 'ValidatingAdmissionPolicy', '', name).catch(() => undefined);
  }
});

it('deletes our WorkloadEntries left behind by a hand delete of their ServiceEntry once the key is gone', async () => {
  await h.status('eureka-a');
  const orders = { source: { name: 'eureka-a', kind: 'eureka' as const }, service: 'lonely', ports: [{ name: 'http', number: 8080, protocol: 'HTTP' }], revision: 1, observedAt: new Date().toISOString() };
  await h.producer.upsert({ ...orders, endpoints: [{ id: 'l-1', address: '10.7.2.1', health: 'healthy' }, { id: 'l-2', address: '10.7.2.2', health: 'healthy' }] });
  const se = await waitFor('lonely written', () => h.seByService('lonely'));
  const ofIt = async () => (await h.wes()).filter((o) => o.metadata.labels?.['registry-bridge.io/service-entry'] === se.metadata.name);
  await waitFor('two WorkloadEntries', async () => (await ofIt()).length === 2);
  // A WorkloadEntry that is not ours, selected by the same label, is never touched.
  await h.admin.create({ apiVersion: 'networking.istio.io/v1', kind: 'WorkloadEntry', metadata: { name: 'hand-made-we', namespace: h.namespace, labels: { 'registry-bridge.io/service-entry': se.metadata.name } }, spec: { address: '10.7.2.9' } } as KubeObject);
  // The service leaves the registry (a removal that is held: no complete snapshot of eureka-a), then its ServiceEntry is deleted by hand.
  await h.producer.remove({ source: orders.source, service: 'lonely', revision: 2, observedAt: new Date().toISOString() });
  await h.admin.delete('networking.istio.io/v1', 'ServiceEntry', h.namespace, se.metadata.name);
  await waitFor('orphan WorkloadEntries deleted', async () => (await ofIt()).every((o) => o.metadata.name === 'hand-made-we'), 30_000);
  expect((await ofIt()).map((o) => o.metadata.name)).toEqual(['hand-made-we']);
  expect(await h.seByService('lonely')).toBeUndefined();
});

it('counts a TCP ServiceEntry as addressed once istiod allocated it an address (status.addresses)', async () => {
  // istiod (a peer, Istio 1.31) allocates addresses to ServiceEntries without spec.addresses and
  // writes them to status.addresses; the writer's listing follows what the API server holds.
  await h.producer.upsert(consulRecord('pg', 1, [{ id: 'p', address: '10.7.3.1', health: 'healthy' }], { ports: [{ name: 'pg', number: 5432, protocol: 'TCP' }] }));
  const se = await waitFor('pg written', () => h.seByService('pg'));
  expect((se.spec as { addresses?: string[] }).addresses).toBeUndefined();
  const allocated = await waitFor('istiod to allocate an address to pg', async () => {
    const cur = (await h.se(se.metadata.name)) as KubeObject & { status?: { addresses?: Array<{ value: string; host: string }> } };
    return cur?.status?.addresses?.length ? cur.status.addresses : undefined;
  });
  expect(allocated[0].host).toBe('pg.service.consul');
  const id = `${h.namespace}/${se.metadata.name}`;
  const st = await waitFor('pg not listed once addressed', async () => {
    const s = await status();
    return !s.tcpWithoutAddress.entries.includes(id) && s;
  });
  expect(await metric('registry_bridge_tcp_entries_without_address', '')).toBe(st.tcpWithoutAddress.count);
});

it('refuses a host that a ServiceEntry in another namespace already uses, and leaves that one alone', async () => {
  await h.admin.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: other } } as KubeObject);
  await h.admin.create({ apiVersion: 'networking.istio.io/v1', kind: 'ServiceEntry', metadata: { name: 'theirs', namespace: other }, spec: { hosts: [`shared-${h.id}.service.consul`], ports: [{ number: 80, name: 'http', protocol: 'HTTP' }], resolution: 'STATIC', location: 'MESH_INTERNAL' } } as KubeObject);
  expect((await status()).hostCollisions).toEqual({ scope: 'cluster' });
  // A host of its own per run: namespaces deleted on the test API server keep their objects (no controller-manager).
  await h.producer.upsert(consulRecord(`shared-${h.id}`, 1, [{ id: 's', address: '10.7.4.1', health: 'healthy' }]));
  const refused = await waitFor('shared refused', async () => (await status()).refused[`consul-dc1//shared-${h.id}`]);
  expect(refused.reason).toBe('host-collision');
  expect(refused.detail).toContain(`ServiceEntry ${other}/theirs`);
  expect(await h.seByService(`shared-${h.id}`)).toBeUndefined();
  const theirs = await h.admin.get<KubeObject>('networking.istio.io/v1', 'ServiceEntry', other, 'theirs');
  expect(theirs?.metadata.labels?.['app.kubernetes.io/managed-by']).toBeUndefined();
});
