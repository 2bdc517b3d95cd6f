import type { EventTarget, KubeObject } from '@registry-bridge/kube';
import { KubeError } from '@registry-bridge/kube';
import type { SnapshotState, SourceState, KeyState } from '../app/state-store.service';
import type { ReconcileState } from '../app/reconciler.service';
import type { HostClaimStore } from '../app/host-index.service';

/** Hand-written fakes of the writer's ports, for unit tests only (the int specs use the real peers). */

const clone = <T>(v: T): T => structuredClone(v);
const idOf = (kind: string, namespace: string | undefined, name: string) => `${kind}/${namespace ?? ''}/${name}`;

type WatchHandlers = { sync: (items: KubeObject[]) => void; event: (type: 'ADDED' | 'MODIFIED' | 'DELETED', obj: KubeObject) => void; error: (err: unknown) => void };

/**
 * An API server in memory: server-side apply replaces our fields (one field manager), a uid in the
 * body or in delete preconditions must match (409 otherwise), and `reject` stands in for admission.
 */
export class FakeKube {
  readonly objects = new Map<string, KubeObject>();
  /** Every write, in order: `apply ServiceEntry ns/name`, `delete WorkloadEntry ns/name`. */
  readonly writes: string[] = [];
  reject?: (obj: KubeObject) => KubeError | undefined;
  private uids = 0;

  put(obj: KubeObject): KubeObject {
    const stored = clone({ ...obj, metadata: { ...obj.metadata, uid: obj.metadata.uid ?? `uid-${++this.uids}` } });
    this.objects.set(idOf(obj.kind, obj.metadata.namespace, obj.metadata.name), stored);
    return clone(stored);
  }

  find(kind: string, namespace: string, name: string): KubeObject | undefined {
    return this.objects.get(idOf(kind, namespace, name));
  }

  all(kind: string): KubeObject[] {
    return [...this.objects.values()].filter((o) => o.kind === kind);
  }

  async get<T extends KubeObject>(_apiVersion: string, kind: string, namespace: string, name: string): Promise<T | undefined> {
    const o = this.find(kind, namespace, name);
    return o ? (clone(o) as T) : undefined;
  }

  async list<T extends KubeObject>(_apiVersion: string, kind: string, namespace: string | undefined, labelSelector?: string): Promise<T[]> {
    const [k, v] = (labelSelector ?? '').split('=');
    return this.all(kind)
      .filter((o) => !namespace || o.metadata.namespace === namespace)
      .filter((o) => !labelSelector || o.metadata.labels?.[k] === v)
      .map((o) => clone(o) as T);
  }

  async apply<T extends KubeObject>(obj: T): Promise<T> {
    const what = `${obj.kind} ${obj.metadata.namespace}/${obj.metadata.name}`;
    const rejected = this.reject?.(obj);
    if (rejected) throw rejected;
    const cur = this.find(obj.kind, obj.metadata.namespace ?? '', obj.metadata.name);
    if (obj.metadata.uid && obj.metadata.uid !== cur?.metadata.uid) throw new KubeError(409, 'apply', what, 'Precondition failed: UID in precondition does not match');
    this.writes.push(`apply ${what}`);
    return this.put({ ...obj, metadata: { ...obj.metadata, uid: cur?.metadata.uid } }) as T;
  }

  async delete(_apiVersion: string, kind: string, namespace: string, name: string, pre?: { uid?: string }): Promise<boolean> {
    const cur = this.find(kind, namespace, name);
    if (!cur) return false;
    if (pre?.uid && pre.uid !== cur.metadata.uid) throw new KubeError(409, 'delete', `${kind} ${namespace}/${name}`, 'Precondition failed');
    this.writes.push(`delete ${kind} ${namespace}/${name}`);
    return this.objects.delete(idOf(kind, namespace, name));
  }

  /** List-then-watch as the ObjectCache uses it: the list is delivered at once; no events follow. */
  listWatch(_apiVersion: string, kind: string, _plural: string, namespace: string, h: WatchHandlers): () => void {
    h.sync(this.all(kind).filter((o) => !namespace || o.metadata.namespace === namespace).map(clone));
    return () => undefined;
  }
}

/** The writer's Redis state in memory, with the same rules as the Lua scripts of StateStore. */
export class FakeState implements ReconcileState, HostClaimStore {
  readonly states = new Map<string, KeyState>();
  readonly snapshots = new Map<string, SnapshotState>();
  readonly statuses = new Map<string, SourceState>();
  readonly keys = new Map<string, Set<string>>();
  readonly deletions: Array<{ source: string; at: number }> = [];
  readonly hosts = new Map<string, string>();

  /** Test setup: a key's state as ingest would have stored it. */
  seed(state: KeyState, source = state.key.split('/')[0]): void {
    this.states.set(state.key, clone(state));
    if (!this.keys.has(source)) this.keys.set(source, new Set());
    this.keys.get(source)?.add(state.key);
  }

  async get(key: string): Promise<KeyState | undefined> {
    const s = this.states.get(key);
    return s ? clone(s) : undefined;
  }
  async completeSnapshot(source: string): Promise<SnapshotState | undefined> {
    return this.snapshots.get(source);
  }
  async status(source: string): Promise<SourceState | undefined> {
    return this.statuses.get(source);
  }
  async sourceKeys(source: string): Promise<string[]> {
    return [...(this.keys.get(source) ?? [])];
  }
  async deletionsInWindow(source: string, windowMs: number, now = Date.now()): Promise<number> {
    return this.countDeletions(source, windowMs, now);
  }
  /** Atomic like the Redis script: the count and the record with no await between them. */
  async takeDeletion(source: string, _key: string, budget: number, windowMs: number, now = Date.now()): Promise<boolean> {
    if (this.countDeletions(source, windowMs, now) >= budget) return false;
    this.deletions.push({ source, at: now });
    return true;
  }
  async markApplied(key: string, f: { appliedHash: string; name: string; namespace: string; host: string; mode: string }): Promise<void> {
    const s = this.mustGet(key);
    Object.assign(s, { ...f, refused: undefined, refusedAt: undefined, rejectedHash: undefined });
  }
  async markRefused(key: string, reason: string, now = Date.now(), rejectedHash?: string): Promise<void> {
    const s = this.mustGet(key);
    Object.assign(s, { refused: reason, rejectedHash: rejectedHash || undefined, refusedAt: s.refusedAt ?? now });
  }
  async markRetired(key: string): Promise<void> {
    Object.assign(this.mustGet(key), { appliedHash: undefined, name: undefined, namespace: undefined, host: undefined, mode: undefined });
  }
  async forget(key: string, source: string, observedAt: number): Promise<void> {
    const cur = this.states.get(key);
    if (cur && cur.deleted && cur.observedAt === observedAt) {
      this.states.delete(key);
      this.keys.get(source)?.delete(key);
    }
  }
  /** Like TOMBSTONE_SCRIPT: only if nothing newer than the snapshot arrived for the key. */
  async tombstone(key: string, source: string, snapshotObservedAt: number, now = Date.now()): Promise<boolean> {
    const cur = this.states.get(key);
    if (cur && (cur.observedAt >= snapshotObservedAt || cur.deleted)) return false;
    this.seed({ ...(cur ?? { key, revision: 0, lineage: '', observedAt: 0 }), deleted: true, removedAt: now }, source);
    return true;
  }
  async hostHolder(host: string): Promise<string | undefined> {
    return this.hosts.get(host);
  }
  async setHostHolder(host: string, key: string, ifFree: boolean): Promise<boolean> {
    if (ifFree && this.hosts.has(host)) return false;
    this.hosts.set(host, key);
    return true;
  }
  async releaseHost(host: string, key: string): Promise<void> {
    if (this.hosts.get(host) === key) this.hosts.delete(host);
  }

  private countDeletions(source: string, windowMs: number, now: number): number {
    return this.deletions.filter((d) => d.source === source && d.at > now - windowMs).length;
  }

  private mustGet(key: string): KeyState {
    const s = this.states.get(key);
    if (!s) throw new Error(`FakeState: no state for ${key}`);
    return s;
  }
}

/** Events recorded, as `type reason kind/name: message`. */
export class FakeEvents {
  readonly recorded: string[] = [];
  async record(target: EventTarget, type: string, reason: string, message: string): Promise<boolean> {
    this.recorded.push(`${type} ${reason} ${target.kind}/${target.name}: ${message}`);
    return true;
  }
}
