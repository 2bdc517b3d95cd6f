import { KubeClient, KubeError, KubeObject } from './kube-client';
import { LeaseElector } from './lease-elector';

/** An in-memory Lease store with resourceVersion checks, recording every call. */
class FakeLeases {
  lease?: KubeObject & { spec: Record<string, unknown> };
  calls: string[] = [];
  private rv = 0;

  get = async () => {
    this.calls.push('get');
    return this.lease && structuredClone(this.lease);
  };
  create = async (obj: KubeObject) => {
    this.calls.push('create');
    if (this.lease) throw new KubeError(409, 'create', 'Lease', 'exists');
    this.lease = { ...structuredClone(obj), metadata: { ...obj.metadata, resourceVersion: String(++this.rv) } } as never;
    return structuredClone(this.lease);
  };
  replace = async (obj: KubeObject) => {
    this.calls.push('update');
    if (obj.metadata.resourceVersion !== this.lease?.metadata.resourceVersion) throw new KubeError(409, 'update', 'Lease', 'conflict');
    this.lease = { ...structuredClone(obj), metadata: { ...obj.metadata, resourceVersion: String(++this.rv) } } as never;
    return structuredClone(this.lease);
  };
  /** Someone else writes the lease (a new resourceVersion). */
  touch() {
    this.lease!.metadata.resourceVersion = String(++this.rv);
  }
}

const options = { namespace: 'ns', name: 'writer', identity: 'me', leaseDurationSeconds: 15, renewDeadlineSeconds: 10, retryPeriodSeconds: 2 };

function setup() {
  const store = new FakeLeases();
  let now = 1_000_000;
  const elector = new LeaseElector(store as unknown as KubeClient, options, () => now);
  const tick = () => (elector as unknown as { tick(): Promise<void> }).tick();
  return { store, elector, tick, advance: (ms: number) => (now += ms) };
}

describe('LeaseElector', () => {
  it('a leader renews with one update, not a read and an update', async () => {
    const { store, elector, tick, advance } = setup();
    await tick();
    expect(store.calls).toEqual(['get', 'create']);
    expect(elector.isLeader()).toBe(true);
    store.calls = [];
    for (let i = 0; i < 3; i++) {
      advance(2000);
      await tick();
    }
    expect(store.calls).toEqual(['update', 'update', 'update']);
    expect(elector.isLeader()).toBe(true);
  });

  it('falls back to reading the lease when its own copy is stale, and keeps leading if still the holder', async () => {
    const { store, elector, tick, advance } = setup();
    await tick();
    store.touch();
    store.calls = [];
    advance(2000);
    await tick();
    expect(store.calls).toEqual(['update', 'get', 'update']);
    expect(elector.isLeader()).toBe(true);
  });

  it('stops leading when someone else holds the lease now', async () => {
    const { store, elector, tick, advance } = setup();
    await tick();
    store.lease!.spec['holderIdentity'] = 'other';
    store.lease!.spec['renewTime'] = new Date();
    store.touch();
    advance(2000);
    await tick();
    expect(elector.isLeader()).toBe(false);
    expect(elector.holder()).toBe('other');
    store.calls = [];
    advance(2000);
    await tick();
    expect(store.calls).toEqual(['get']);
  });
});
