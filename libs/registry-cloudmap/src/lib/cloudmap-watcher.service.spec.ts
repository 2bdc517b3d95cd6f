import {
  DiscoverInstancesCommand,
  DiscoverInstancesRevisionCommand,
  GetInstancesHealthStatusCommand,
  ListInstancesCommand,
  ListNamespacesCommand,
  ListServicesCommand,
  RequestLimitExceeded,
  ServiceDiscoveryClient,
} from '@aws-sdk/client-servicediscovery';
import { Message, RecordProducer } from '@registry-bridge/contract';
import { mockClient } from 'aws-sdk-client-mock';
import { BudgetedServiceDiscoveryClient, CloudMapApiObserver, NOOP_API_OBSERVER } from './cloudmap-api.client';
import { CloudMapApi, cloudMapSourceSchema, CloudMapSourceInput, toSourceOptions } from './cloudmap-config.schema';
import { CloudMapReader } from './cloudmap-reader.service';
import { CloudMapWatcher } from './cloudmap-watcher.service';
import { cloudMapEmitter, WatcherCoordination } from './cloudmap-watcher.ports';
import { LocalRequestBudget } from './request-budget.service';

// Prototype-level mock: the budgeted subclass's own send() still runs and calls the mocked super.send().
const sd = mockClient(ServiceDiscoveryClient);

const throttle = () => Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $fault: 'client', $metadata: { httpStatusCode: 400 } });
const refused = () => Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });

/** `realClock`: the watcher's own loops run (start()), so time must pass for them. */
function setup(over: Partial<CloudMapSourceInput> = {}, coordination?: WatcherCoordination, realClock = false) {
  const config = toSourceOptions(
    cloudMapSourceSchema.parse({
      name: 'cm-test',
      region: 'eu-west-1',
      throttle: { baseDelaySeconds: 0.001, maxDelaySeconds: 0.002, maxRetries: 3 },
      budget: Object.fromEntries(['ListNamespaces', 'ListServices', 'DiscoverInstancesRevision', 'DiscoverInstances', 'ListInstances', 'GetInstancesHealthStatus'].map((a) => [a, { rps: 10000 }])),
      ...over,
    }),
  );
  const messages: Message[] = [];
  const sink = new RecordProducer({ add: async (_name, data) => void messages.push(data as Message) });
  const calls: Array<[CloudMapApi, string]> = [];
  const throttles: number[] = [];
  const observer: CloudMapApiObserver = { ...NOOP_API_OBSERVER, onRequest: (api, outcome) => void calls.push([api, outcome]), onThrottle: (_api, f) => void throttles.push(f) };
  const client = new BudgetedServiceDiscoveryClient({ region: 'eu-west-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } }, new LocalRequestBudget(config), config.throttle, observer);
  let clock = 1_000_000;
  const now = realClock ? Date.now : () => clock;
  const emitter = cloudMapEmitter(config.name, { port: sink, now });
  const watcher = new CloudMapWatcher(config, { reader: new CloudMapReader(client), emitter, coordination, now });
  return { watcher, messages, calls, throttles, advance: (ms: number) => (clock += ms), sink };
}

/** Message types other than the status heartbeats. */
const types = (messages: Message[]) => messages.filter((m) => m.type !== 'sourceStatus').map((m) => m.type);
const statuses = (messages: Message[]) => messages.flatMap((m) => (m.type === 'sourceStatus' ? [m] : []));
const inst = (id: string, health: string, ip = '10.0.0.1') => ({ InstanceId: id, HealthStatus: health as 'HEALTHY', Attributes: { AWS_INSTANCE_IPV4: ip, AWS_INSTANCE_PORT: '80' } });

function oneService() {
  sd.on(ListNamespacesCommand).resolves({ Namespaces: [{ Id: 'ns-1', Name: 'prod.local', Type: 'HTTP' }] });
  sd.on(ListServicesCommand).resolves({ Services: [{ Id: 'srv-1', Name: 'orders', HealthCheckCustomConfig: {} }] });
}

beforeEach(() => sd.reset());

describe('CloudMapWatcher', () => {
  it('re-reads health on its own cadence: the revision does not move on a health change', async () => {
    oneService();
    sd.on(DiscoverInstancesRevisionCommand).resolves({ InstancesRevision: 5 });
    sd.on(DiscoverInstancesCommand)
      .resolvesOnce({ Instances: [inst('a', 'HEALTHY')], InstancesRevision: 5 })
      .resolves({ Instances: [inst('a', 'UNHEALTHY')], InstancesRevision: 5 });
    const { watcher, messages, advance } = setup({ intervals: { healthSeconds: 30 } });

    expect(await watcher.runInventory()).toBe(true);
    await watcher.runPollCycle();
    expect(sd.commandCalls(DiscoverInstancesCommand)[0].args[0].input).toMatchObject({ HealthStatus: 'ALL', MaxResults: 1000 });
    // Revision unchanged, health not yet due: one cheap call, no DiscoverInstances, nothing sent.
    advance(5_000);
    await watcher.runPollCycle();
    expect(sd.commandCalls(DiscoverInstancesRevisionCommand)).toHaveLength(1);
    expect(sd.commandCalls(DiscoverInstancesCommand)).toHaveLength(1);
    advance(30_000);
    await watcher.runPollCycle();
    expect(sd.commandCalls(DiscoverInstancesCommand)).toHaveLength(2);

    const upserts = messages.filter((m) => m.type === 'upsert');
    expect(upserts.map((m) => m.type === 'upsert' && [m.record.revision, m.record.endpoints[0].health])).toEqual([
      [5, 'healthy'],
      [5, 'unhealthy'],
    ]);
    expect(types(messages)).toEqual(['snapshot', 'upsert', 'upsert']);
  });

  it('reads instances when the revision moves, and sends nothing when only the revision changed', async () => {
    oneService();
    sd.on(DiscoverInstancesRevisionCommand).resolvesOnce({ InstancesRevision: 6 }).resolves({ InstancesRevision: 7 });
    sd.on(DiscoverInstancesCommand)
      .resolvesOnce({ Instances: [inst('a', 'HEALTHY')], InstancesRevision: 5 })
      .resolvesOnce({ Instances: [inst('a', 'HEALTHY'), inst('b', 'HEALTHY', '10.0.0.2')], InstancesRevision: 6 })
      .resolves({ Instances: [inst('a', 'HEALTHY'), inst('b', 'HEALTHY', '10.0.0.2')], InstancesRevision: 7 });
    const { watcher, messages } = setup();
    await watcher.runInventory();
    await watcher.runPollCycle();
    await watcher.runPollCycle();
    await watcher.runPollCycle();
    const upserts = messages.flatMap((m) => (m.type === 'upsert' ? [[m.record.revision, m.record.endpoints.length]] : []));
    expect(upserts).toEqual([
      [5, 1],
      [6, 2],
    ]);
    expect(sd.commandCalls(DiscoverInstancesCommand)).toHaveLength(3);
  });

  it('backs off on ThrottlingException, lowers the shared rate, and retries through the budget', async () => {
    oneService();
    sd.on(DiscoverInstancesCommand)
      .rejectsOnce(throttle())
      .rejectsOnce(new RequestLimitExceeded({ message: 'limit', $metadata: {} }))
      .resolves({ Instances: [inst('a', 'HEALTHY')], InstancesRevision: 1 });
    const { watcher, messages, calls, throttles } = setup();
    await watcher.runInventory();
    await watcher.runPollCycle();
    expect(calls.filter(([api]) => api === 'DiscoverInstances').map(([, o]) => o)).toEqual(['throttled', 'throttled', 'ok']);
    expect(throttles[0]).toBeCloseTo(0.5, 2);
    expect(throttles[1]).toBeCloseTo(0.25, 2);
    expect(types(messages)).toEqual(['snapshot', 'upsert']);
    expect(watcher.sourceHealth().reachable).toBe(true);
  });

  it('throttled past its retries, an inventory is no inventory: no snapshot, no removal, reachable=false', async () => {
    oneService();
    sd.on(DiscoverInstancesCommand).resolves({ Instances: [inst('a', 'HEALTHY')], InstancesRevision: 1 });
    const { watcher, messages, calls } = setup();
    await watcher.runInventory();
    await watcher.runPollCycle();
    messages.length = 0;
    sd.on(ListServicesCommand).rejects(throttle());
    expect(await watcher.runInventory()).toBe(false);
    expect(calls.filter(([api, o]) => api === 'ListServices' && o === 'throttled')).toHaveLength(4);
    expect(types(messages)).toEqual([]);
    expect(statuses(messages)).toMatchObject([{ reachable: false, error: expect.stringContaining('ThrottlingException') }]);
  });

  it('an outage sends only reachable=false: no snapshot, no removal, nothing that reads as empty', async () => {
    oneService();
    sd.on(DiscoverInstancesRevisionCommand).resolves({ InstancesRevision: 1 });
    sd.on(DiscoverInstancesCommand).resolves({ Instances: [inst('a', 'HEALTHY')], InstancesRevision: 1 });
    const { watcher, messages, advance } = setup();
    await watcher.runInventory();
    await watcher.runPollCycle();
    messages.length = 0;
    sd.reset();
    sd.onAnyCommand().rejects(refused());
    advance(60_000);
    expect(await watcher.runInventory()).toBe(false);
    await watcher.runPollCycle();
    expect(types(messages)).toEqual([]);
    expect(statuses(messages).length).toBeGreaterThan(0);
    expect(statuses(messages).every((m) => !m.reachable)).toBe(true);
    expect(watcher.sourceHealth()).toMatchObject({ reachable: false, error: expect.stringContaining('ECONNREFUSED') });
  });

  it('a service gone from a complete inventory is removed and left out of the snapshot', async () => {
    sd.on(ListNamespacesCommand).resolves({ Namespaces: [{ Id: 'ns-1', Name: 'prod.local', Type: 'HTTP' }] });
    sd.on(ListServicesCommand)
      .resolvesOnce({ Services: [{ Id: 'srv-1', Name: 'orders' }, { Id: 'srv-2', Name: 'billing' }] })
      .resolves({ Services: [{ Id: 'srv-1', Name: 'orders' }] });
    sd.on(DiscoverInstancesCommand).resolves({ Instances: [inst('a', 'UNKNOWN')], InstancesRevision: 3 });
    const { watcher, messages } = setup();
    await watcher.runInventory();
    await watcher.runPollCycle();
    messages.length = 0;
    await watcher.runInventory();
    expect(messages.filter((m) => m.type !== 'sourceStatus')).toMatchObject([
      { type: 'remove', service: 'billing', scope: 'prod.local', revision: 3, lineage: 'srv-2' },
      { type: 'snapshot', complete: true, services: [{ service: 'orders', scope: 'prod.local' }] },
    ]);
  });

  it('follows pagination of ListServices and falls back to paginated listings when DiscoverInstances fills a page', async () => {
    sd.on(ListNamespacesCommand).resolves({ Namespaces: [{ Id: 'ns-1', Name: 'big.local', Type: 'HTTP' }] });
    sd.on(ListServicesCommand)
      .resolvesOnce({ Services: [{ Id: 'srv-1', Name: 'big', HealthCheckCustomConfig: {} }], NextToken: 't1' })
      .resolves({ Services: [{ Id: 'srv-2', Name: 'small' }] });
    sd.on(DiscoverInstancesCommand, { ServiceName: 'big' }).resolves({ Instances: [inst('a', 'HEALTHY'), inst('b', 'HEALTHY')], InstancesRevision: 9 });
    sd.on(DiscoverInstancesCommand, { ServiceName: 'small' }).resolves({ Instances: [], InstancesRevision: 0 });
    sd.on(ListInstancesCommand)
      .resolvesOnce({ Instances: [{ Id: 'a', Attributes: { AWS_INSTANCE_IPV4: '10.0.0.1' } }, { Id: 'b', Attributes: { AWS_INSTANCE_IPV4: '10.0.0.2' } }], NextToken: 'p2' })
      .resolves({ Instances: [{ Id: 'c', Attributes: { AWS_INSTANCE_IPV4: '10.0.0.3' } }] });
    sd.on(GetInstancesHealthStatusCommand).resolvesOnce({ Status: { a: 'HEALTHY', b: 'UNHEALTHY' }, NextToken: 'h2' }).resolves({ Status: { c: 'UNKNOWN' } });
    const { watcher, messages } = setup({ discoverMaxResults: 2 });
    await watcher.runInventory();
    await watcher.runPollCycle();
    // (the paginator reuses one input object, so the recorded calls cannot show the tokens)
    expect(sd.commandCalls(ListServicesCommand)).toHaveLength(2);
    expect(messages.find((m) => m.type === 'snapshot')).toMatchObject({ services: [{ service: 'big' }, { service: 'small' }] });
    const big = messages.find((m) => m.type === 'upsert' && m.record.service === 'big');
    expect(big?.type === 'upsert' && big.record.endpoints.map((e) => [e.id, e.health])).toEqual([
      ['a', 'healthy'],
      ['b', 'unhealthy'],
      ['c', 'unknown'],
    ]);
    expect(big?.type === 'upsert' && big.record.revision).toBe(9);
    expect(sd.commandCalls(ListInstancesCommand)).toHaveLength(2);
  });

  it('polls only the services this replica owns, and snapshots only under the lease', async () => {
    sd.on(ListNamespacesCommand).resolves({ Namespaces: [{ Id: 'ns-1', Name: 'prod.local', Type: 'HTTP' }] });
    sd.on(ListServicesCommand).resolves({ Services: [{ Id: 'srv-1', Name: 'mine' }, { Id: 'srv-2', Name: 'theirs' }] });
    sd.on(DiscoverInstancesCommand).resolves({ Instances: [], InstancesRevision: 0 });
    const { watcher, messages } = setup({}, { owns: (key) => key.endsWith('/mine'), leaseFor: async () => false });
    await watcher.runInventory();
    await watcher.runPollCycle();
    expect(sd.commandCalls(DiscoverInstancesCommand).map((c) => c.args[0].input.ServiceName)).toEqual(['mine']);
    expect(types(messages)).toEqual(['upsert']);
  });

  it('a record the queue did not take is sent again next cycle, and the registry still counts as reachable', async () => {
    oneService();
    sd.on(DiscoverInstancesRevisionCommand).resolves({ InstancesRevision: 1 });
    sd.on(DiscoverInstancesCommand).resolves({ Instances: [inst('a', 'HEALTHY')], InstancesRevision: 1 });
    const { watcher, messages, sink } = setup();
    await watcher.runInventory();
    const realUpsert = sink.upsert;
    sink.upsert = () => Promise.reject(new Error('redis down'));
    await watcher.runPollCycle();
    expect(watcher.sourceHealth().reachable).toBe(true);
    sink.upsert = realUpsert;
    await watcher.runPollCycle();
    expect(types(messages)).toEqual(['snapshot', 'upsert']);
  });

  it('applies the namespace and service filters', async () => {
    sd.on(ListNamespacesCommand).resolves({
      Namespaces: [
        { Id: 'ns-1', Name: 'prod.local', Type: 'HTTP' },
        { Id: 'ns-2', Name: 'dev.local', Type: 'DNS_PRIVATE' },
      ],
    });
    sd.on(ListServicesCommand, { Filters: [{ Name: 'NAMESPACE_ID', Values: ['ns-1'], Condition: 'EQ' }] }).resolves({ Services: [{ Id: 's1', Name: 'api' }, { Id: 's2', Name: 'api-canary' }] });
    const { watcher, messages } = setup({ namespaces: { names: ['prod.local'] }, services: { deny: ['*-canary'] } });
    await watcher.runInventory();
    expect(sd.commandCalls(ListServicesCommand)).toHaveLength(1);
    expect(messages.filter((m) => m.type === 'snapshot')).toMatchObject([{ services: [{ service: 'api', scope: 'prod.local' }] }]);
    expect(statuses(messages)).toMatchObject([{ reachable: true, conditions: { inventoryReady: true, services: 1 } }]);
  });
});

describe('CloudMapWatcher.stop', () => {
  it('returns within its grace even when a read never finishes (SIGTERM must not hang)', async () => {
    const { watcher } = setup();
    sd.on(ListNamespacesCommand).callsFake(() => new Promise(() => undefined));
    watcher.start();
    await new Promise((r) => setTimeout(r, 20));
    const t0 = Date.now();
    await watcher.stop(200);
    expect(Date.now() - t0).toBeLessThan(2000);
  });
});

describe('CloudMapWatcher after an outage', () => {
  // Issue 15.2: a failed inventory used to wait a whole inventorySeconds before the next try, so a
  // Cloud Map API that answered again stayed "unreachable" for up to a minute.
  it('retries a failed inventory after intervals.retrySeconds, not inventorySeconds: reachable again soon after the API answers', async () => {
    sd.on(ListNamespacesCommand).rejectsOnce(refused()).resolves({ Namespaces: [{ Id: 'ns-1', Name: 'prod.local', Type: 'HTTP' }] });
    sd.on(ListServicesCommand).resolves({ Services: [{ Id: 'srv-1', Name: 'orders' }] });
    sd.on(DiscoverInstancesRevisionCommand).resolves({ InstancesRevision: 1 });
    sd.on(DiscoverInstancesCommand).resolves({ Instances: [inst('a', 'HEALTHY')], InstancesRevision: 1 });
    const { watcher, messages } = setup({ intervals: { inventorySeconds: 600, revisionSeconds: 0.2, retrySeconds: 1 } }, undefined, true);
    watcher.start();
    try {
      const end = Date.now() + 8000;
      while (!watcher.sourceHealth().reachable && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
    } finally {
      await watcher.stop(200);
    }
    expect(sd.commandCalls(ListNamespacesCommand)).toHaveLength(2);
    expect(statuses(messages)[0]).toMatchObject({ reachable: false });
    expect(watcher.sourceHealth()).toMatchObject({ reachable: true });
  }, 15000);
});

describe('CloudMapWatcher revisions', () => {
  it('keeps a real change above what it sent when the registry revision steps back', async () => {
    oneService();
    sd.on(DiscoverInstancesRevisionCommand).resolvesOnce({ InstancesRevision: 3 }).resolves({ InstancesRevision: 3 });
    sd.on(DiscoverInstancesCommand)
      .resolvesOnce({ Instances: [inst('a', 'HEALTHY'), inst('b', 'HEALTHY', '10.0.0.2')], InstancesRevision: 4 })
      .resolves({ Instances: [inst('a', 'HEALTHY')], InstancesRevision: 3 });
    const { watcher, messages, advance } = setup();
    expect(await watcher.runInventory()).toBe(true);
    await watcher.runPollCycle();
    advance(5_000);
    await watcher.runPollCycle();
    const revisions = messages.flatMap((m) => (m.type === 'upsert' ? [[m.record.revision, m.record.endpoints.length]] : []));
    expect(revisions).toEqual([
      [4, 2],
      [5, 1],
    ]);
  });
});
