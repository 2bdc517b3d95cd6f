import { KubeError, KubeObject } from '@registry-bridge/kube';
import { LABELS, MANAGED_BY_VALUE } from '@registry-bridge/translation';
import { Clock, UninstallKube, uninstallOptionsFromEnv, uninstallWritten } from './uninstall';

const owned = (kind: string, ns: string, name: string, installation = 'prod'): KubeObject => ({
  apiVersion: 'networking.istio.io/v1',
  kind,
  metadata: { name, namespace: ns, uid: `${ns}-${name}`, labels: { [LABELS.managedBy]: MANAGED_BY_VALUE, [LABELS.installation]: installation } },
});

/** An API server in memory: list by kind (the selector is trusted to the fake's caller), delete with failures on demand. */
class FakeKube implements UninstallKube {
  lease?: { spec: { holderIdentity?: string; renewTime?: string; leaseDurationSeconds?: number } };
  objects: KubeObject[] = [];
  failDeletes = new Map<string, number>();
  deletes: string[] = [];
  selectors: Array<string | undefined> = [];
  async get<T extends KubeObject>(): Promise<T | undefined> {
    return this.lease as unknown as T | undefined;
  }
  async list<T extends KubeObject>(_v: string, kind: string, namespace: string | undefined, selector?: string): Promise<T[]> {
    expect(namespace).toBeUndefined();
    this.selectors.push(selector);
    return this.objects.filter((o) => o.kind === kind) as T[];
  }
  async delete(_v: string, kind: string, namespace: string, name: string): Promise<boolean> {
    const key = `${kind} ${namespace}/${name}`;
    const fails = this.failDeletes.get(key) ?? 0;
    if (fails > 0) {
      this.failDeletes.set(key, fails - 1);
      throw new KubeError(500, 'delete', key, 'etcd timeout');
    }
    this.deletes.push(key);
    this.objects = this.objects.filter((o) => !(o.kind === kind && o.metadata.namespace === namespace && o.metadata.name === name));
    return true;
  }
}

class FakeClock implements Clock {
  t = 0;
  now = () => this.t;
  sleep = async (ms: number) => {
    this.t += ms;
  };
}

const opts = { installation: 'prod', lease: { namespace: 'rb', name: 'rb-writer', durationSeconds: 15 }, timeoutSeconds: 60 };

describe('uninstallWritten', () => {
  it('deletes every object of the installation in every namespace, WorkloadEntries first, and ends on an empty list', async () => {
    const kube = new FakeKube();
    kube.objects = [owned('ServiceEntry', 'a', 'se1'), owned('WorkloadEntry', 'a', 'we1'), owned('ServiceEntry', 'b', 'se2')];
    const { deleted } = await uninstallWritten(kube, opts, () => undefined, new FakeClock());
    expect(deleted).toEqual(['WorkloadEntry a/we1', 'ServiceEntry a/se1', 'ServiceEntry b/se2']);
    expect(kube.objects).toEqual([]);
    expect(kube.selectors.every((s) => s === `${LABELS.managedBy}=${MANAGED_BY_VALUE},${LABELS.installation}=prod`)).toBe(true);
  });

  it('never deletes an object of another installation or owner, even when a list returns one', async () => {
    const kube = new FakeKube();
    const other = owned('ServiceEntry', 'a', 'theirs', 'staging');
    const handMade: KubeObject = { apiVersion: 'networking.istio.io/v1', kind: 'ServiceEntry', metadata: { name: 'hand', namespace: 'a', labels: {} } };
    kube.objects = [other, handMade, owned('ServiceEntry', 'a', 'ours')];
    await uninstallWritten(kube, opts, () => undefined, new FakeClock());
    expect(kube.deletes).toEqual(['ServiceEntry a/ours']);
    expect(kube.objects).toEqual([other, handMade]);
  });

  it('retries failed deletes until none is left', async () => {
    const kube = new FakeKube();
    kube.objects = [owned('ServiceEntry', 'a', 'se1'), owned('ServiceEntry', 'a', 'se2')];
    kube.failDeletes.set('ServiceEntry a/se2', 3);
    const lines: string[] = [];
    await uninstallWritten(kube, opts, (l) => lines.push(l), new FakeClock());
    expect(kube.objects).toEqual([]);
    expect(lines.filter((l) => l.includes('delete(s) failed'))).toHaveLength(3);
  });

  it('fails naming what is left when deletes keep failing until the timeout', async () => {
    const kube = new FakeKube();
    kube.objects = [owned('ServiceEntry', 'a', 'se1'), owned('ServiceEntry', 'a', 'stuck')];
    kube.failDeletes.set('ServiceEntry a/stuck', Number.POSITIVE_INFINITY);
    await expect(uninstallWritten(kube, opts, () => undefined, new FakeClock())).rejects.toThrow(/1 object\(s\) of installation prod left .*ServiceEntry a\/stuck: .*etcd timeout/);
    expect(kube.deletes).toEqual(['ServiceEntry a/se1']);
  });

  it('waits while a writer renews the Lease and deletes nothing if it never lets go', async () => {
    const kube = new FakeKube();
    kube.objects = [owned('ServiceEntry', 'a', 'se1')];
    const clock = new FakeClock();
    kube.lease = { spec: { holderIdentity: 'writer-0', renewTime: '0' } };
    // A renewal every second: the record keeps changing, the holder is alive.
    const renewing = { ...clock, sleep: async (ms: number) => { clock.t += ms; kube.lease = { spec: { holderIdentity: 'writer-0', renewTime: String(clock.t) } }; } };
    await expect(uninstallWritten(kube, opts, () => undefined, { now: clock.now, sleep: renewing.sleep })).rejects.toThrow(/writer writer-0 still holds Lease rb\/rb-writer; nothing deleted/);
    expect(kube.deletes).toEqual([]);
  });

  it('goes ahead once the Lease is released, or once its holder stopped renewing for the lease duration', async () => {
    for (const lease of [{ spec: { holderIdentity: '' } }, { spec: { holderIdentity: 'gone-writer', renewTime: '5', leaseDurationSeconds: 15 } }]) {
      const kube = new FakeKube();
      kube.objects = [owned('ServiceEntry', 'a', 'se1')];
      kube.lease = lease;
      const clock = new FakeClock();
      await uninstallWritten(kube, opts, () => undefined, clock);
      expect(kube.objects).toEqual([]);
      // A stale holder is waited out for the lease duration first, no longer.
      if (lease.spec.holderIdentity) expect(clock.t).toBeGreaterThan(15_000);
      if (lease.spec.holderIdentity) expect(clock.t).toBeLessThan(20_000);
    }
  });
});

describe('uninstallOptionsFromEnv', () => {
  it('reads the Job environment and names a missing variable', () => {
    expect(uninstallOptionsFromEnv({ RB_UNINSTALL_INSTALLATION: 'prod', RB_UNINSTALL_LEASE_NAMESPACE: 'rb', RB_UNINSTALL_LEASE_NAME: 'rb-writer', RB_UNINSTALL_LEASE_DURATION_SECONDS: '20' })).toEqual({
      installation: 'prod',
      lease: { namespace: 'rb', name: 'rb-writer', durationSeconds: 20 },
      timeoutSeconds: 240,
    });
    expect(() => uninstallOptionsFromEnv({ RB_UNINSTALL_LEASE_NAMESPACE: 'rb', RB_UNINSTALL_LEASE_NAME: 'x' })).toThrow(/RB_UNINSTALL_INSTALLATION/);
  });
});
