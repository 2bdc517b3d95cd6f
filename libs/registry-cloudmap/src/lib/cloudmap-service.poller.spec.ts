import { Message, RecordProducer } from '@registry-bridge/contract';
import { cloudMapSourceSchema } from './cloudmap-config.schema';
import { SinkError } from './cloudmap-errors.util';
import type { CloudMapServiceRef, RawInstance } from './cloudmap-normalize.util';
import type { InstancesRead } from './cloudmap-reader.service';
import { ChangeKind, CloudMapServicePoller } from './cloudmap-service.poller';
import { cloudMapEmitter } from './cloudmap-watcher.ports';

const config = cloudMapSourceSchema.parse({ name: 'cm-test', region: 'eu-west-1', intervals: { healthSeconds: 30 } });
const ref: CloudMapServiceRef = { id: 'srv-1', name: 'orders', namespaceId: 'ns-1', namespaceName: 'prod.local', healthCheck: 'custom' };
const KEY = 'cm-test/prod.local/orders';
const inst = (id: string, health = 'HEALTHY'): RawInstance => ({ id, attributes: { AWS_INSTANCE_IPV4: '10.0.0.1', AWS_INSTANCE_PORT: '80' }, healthStatus: health });

/** A hand-written reader: the registry's revision and instances as the test sets them, every call recorded. */
function setup() {
  const registry = { revision: 1, instances: [inst('a')] };
  const calls: string[] = [];
  const reader = {
    revision: async () => (calls.push('revision'), registry.revision),
    instances: async (): Promise<InstancesRead> => (calls.push('instances'), { instances: registry.instances, revision: registry.revision, viaListing: false }),
  };
  const sent: Message[] = [];
  let failSend = false;
  const port = new RecordProducer({
    add: async (_name, data) => {
      if (failSend) throw new Error('redis down');
      sent.push(data as Message);
    },
  });
  let now = 1_000_000;
  const emitter = cloudMapEmitter('cm-test', { port, now: () => now });
  const events: string[] = [];
  const observer = { onDrops: () => undefined, onChange: (k: ChangeKind) => void events.push(k), onSkip: (r: string) => void events.push(r) };
  const poller = new CloudMapServicePoller(config, reader, emitter, observer, () => now);
  const upserts = () => sent.flatMap((m) => (m.type === 'upsert' ? [m.record] : []));
  return { registry, calls, poller, emitter, events, upserts, advance: (ms: number) => (now += ms), failSends: (f: boolean) => (failSend = f) };
}

describe('CloudMapServicePoller', () => {
  it('reads a new service in full, then only its revision until it moves', async () => {
    const t = setup();
    await t.poller.poll(KEY, ref);
    await t.poller.poll(KEY, ref);
    t.registry.revision = 2;
    t.registry.instances = [inst('a'), inst('b')];
    await t.poller.poll(KEY, ref);
    expect(t.calls).toEqual(['instances', 'revision', 'revision', 'instances']);
    expect(t.events).toEqual(['added', 'revision-unchanged', 'revision']);
    expect(t.upserts().map((r) => [r.revision, r.endpoints.length])).toEqual([
      [1, 1],
      [2, 2],
    ]);
  });

  it('re-reads health when due without a revision call: a health change does not move the revision', async () => {
    const t = setup();
    await t.poller.poll(KEY, ref);
    t.advance(config.intervals.healthSeconds * 1100);
    await t.poller.poll(KEY, ref);
    t.registry.instances = [inst('a', 'UNHEALTHY')];
    t.advance(config.intervals.healthSeconds * 1100);
    await t.poller.poll(KEY, ref);
    expect(t.calls).toEqual(['instances', 'instances', 'instances']);
    expect(t.events).toEqual(['added', 'content-unchanged', 'health']);
    expect(t.upserts().at(-1)?.endpoints[0].health).toBe('unhealthy');
  });

  it('a record the port did not take throws a SinkError and is read and sent again next time', async () => {
    const t = setup();
    t.failSends(true);
    await expect(t.poller.poll(KEY, ref)).rejects.toBeInstanceOf(SinkError);
    t.failSends(false);
    await t.poller.poll(KEY, ref);
    expect(t.calls).toEqual(['instances', 'instances']);
    expect(t.upserts()).toHaveLength(1);
  });

  it('keeps a real change above what it sent when the registry revision steps back', async () => {
    const t = setup();
    t.registry.revision = 4;
    t.registry.instances = [inst('a'), inst('b')];
    await t.poller.poll(KEY, ref);
    t.registry.revision = 3;
    t.registry.instances = [inst('a')];
    await t.poller.poll(KEY, ref);
    expect(t.upserts().map((r) => r.revision)).toEqual([4, 5]);
  });

  it('a service it no longer keeps is forgotten with its record: a later return reads and sends it again', async () => {
    const t = setup();
    await t.poller.poll(KEY, ref);
    t.poller.keepOnly(() => false);
    expect(t.emitter.sentKeys()).toEqual([]);
    await t.poller.poll(KEY, ref);
    expect(t.calls).toEqual(['instances', 'instances']);
    expect(t.upserts()).toHaveLength(2);
  });

  it('take hands over the revision seen of a service once, and nothing for one never polled', async () => {
    const t = setup();
    t.registry.revision = 9;
    await t.poller.poll(KEY, ref);
    expect(t.poller.take(KEY)).toEqual({ seenRevision: 9 });
    expect(t.poller.take(KEY)).toBeUndefined();
    expect(t.poller.take('cm-test/prod.local/other')).toBeUndefined();
  });

  it('a service re-created under the same name (new id) is read in full', async () => {
    const t = setup();
    await t.poller.poll(KEY, ref);
    await t.poller.poll(KEY, { ...ref, id: 'srv-2' });
    expect(t.calls).toEqual(['instances', 'instances']);
  });
});
