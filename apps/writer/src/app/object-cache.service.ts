import { KubeClient, KubeError, KubeObject } from '@registry-bridge/kube';
import { ANNOTATIONS, canonicalJson, isOwnedBy, LABELS, MANAGED_BY_VALUE, portsNeedingAddress, specHash } from '@registry-bridge/translation';
import type { Logger } from 'pino';
import { HostIndex } from './host-index.service';

export type CachedKind = 'ServiceEntry' | 'WorkloadEntry';

export interface CachedObject {
  kind: CachedKind;
  namespace: string;
  name: string;
  uid?: string;
  specJson: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  owned: boolean;
  hosts: string[];
  key?: string;
  /** ServiceEntry a WorkloadEntry belongs to (our label). */
  serviceEntry?: string;
  /** A ServiceEntry whose ports need an address of their own and that has none yet (see needsAddress). */
  needsAddress?: boolean;
}

/** True for a ServiceEntry with an address-matched (TCP-like) port and no address yet. */
export function needsAddress(spec: Parameters<typeof portsNeedingAddress>[0]['spec'], status: { addresses?: Array<{ value?: string }> } | undefined): boolean {
  return portsNeedingAddress({ spec, status }).length > 0;
}

const PLURALS: Record<CachedKind, string> = { ServiceEntry: 'serviceentries', WorkloadEntry: 'workloadentries' };
const API_VERSION = 'networking.istio.io/v1';
/** The read-only, cluster-wide stream of ServiceEntries (hosts used in namespaces we do not write to). */
const CLUSTER_STREAM = 'ServiceEntry/*';

/**
 * A live view of the ServiceEntries and WorkloadEntries in the namespaces we write to, kept by
 * list-then-watch. It makes creates cost one request (no GET first), feeds the HostIndex with the
 * hosts of ServiceEntries that are not ours, and notices hand edits and deletions as they happen.
 */
export class ObjectCache {
  private readonly objects = new Map<string, CachedObject>();
  private readonly syncedSet = new Set<string>();
  private stops: Array<() => void> = [];

  constructor(
    private readonly kube: KubeClient,
    private readonly namespaces: string[],
    private readonly installation: string,
    private readonly log: Logger,
    private readonly hosts: HostIndex,
    /** Called when someone else changed or deleted an object we own. */
    private readonly onDrift: (key: string, obj: CachedObject, type: 'MODIFIED' | 'DELETED') => void,
  ) {}

  static id(kind: CachedKind, namespace: string, name: string): string {
    return `${kind}/${namespace}/${name}`;
  }

  start(): void {
    for (const ns of this.namespaces) {
      for (const kind of ['ServiceEntry', 'WorkloadEntry'] as CachedKind[]) {
        const stream = `${kind}/${ns}`;
        this.stops.push(
          this.kube.listWatch<KubeObject>(API_VERSION, kind, PLURALS[kind], ns, {
            sync: (items) => {
              for (const [id, o] of this.objects) if (o.kind === kind && o.namespace === ns) this.remove(id);
              for (const item of items) this.put(this.toCached(kind, item));
              this.syncedSet.add(stream);
            },
            event: (type, obj) => this.onEvent(kind, type, obj),
            error: (err) => {
              this.syncedSet.delete(stream);
              this.log.warn({ kind, namespace: ns, err: (err as Error)?.message ?? String(err) }, 'watch interrupted; relisting');
            },
          }),
        );
      }
    }
    this.watchClusterHosts();
  }

  /**
   * Istio picks one of several ServiceEntries with the same host by rules nobody should depend on,
   * across namespaces too: hosts used anywhere in the cluster are learned read-only. Without the
   * RBAC for it (403) the check falls back to our namespaces, loudly, instead of blocking writes.
   */
  private watchClusterHosts(): void {
    const stop = this.kube.listWatch<KubeObject>(API_VERSION, 'ServiceEntry', PLURALS.ServiceEntry, '', {
      sync: (items) => {
        this.dropElsewhere();
        for (const item of items) this.putElsewhere(item);
        this.hosts.setCollisionScope({ scope: 'cluster' });
        this.syncedSet.add(CLUSTER_STREAM);
      },
      event: (type, obj) => this.putElsewhere(obj, type === 'DELETED'),
      error: (err) => {
        if (err instanceof KubeError && err.status === 403) {
          stop();
          this.dropElsewhere();
          this.hosts.setCollisionScope({ scope: 'namespaces', error: `cannot list ServiceEntries in all namespaces (${err.message}); host collisions are checked only in the namespaces written to` });
          this.syncedSet.add(CLUSTER_STREAM);
          this.log.error({ err: err.message }, 'host collisions are checked only in our namespaces: grant list/watch on serviceentries cluster-wide (see deploy/)');
          return;
        }
        this.syncedSet.delete(CLUSTER_STREAM);
        this.log.warn({ kind: 'ServiceEntry', namespace: '*', err: (err as Error)?.message ?? String(err) }, 'watch interrupted; relisting');
      },
    });
    this.stops.push(stop);
  }

  /**
   * A ServiceEntry outside our namespaces: its hosts join the foreign hosts, unless registry-bridge
   * manages it. Ours are claims in Redis; another installation's hosts are that installation's
   * (installations sharing a cluster use distinct host suffixes, see docs/operations.md), and
   * counting them would let its objects left in a namespace being deleted block ours.
   */
  private putElsewhere(obj: KubeObject, deleted = false): void {
    const ns = obj.metadata.namespace ?? '';
    if (this.namespaces.includes(ns)) return;
    const id = `${ns}/${obj.metadata.name}`;
    if (deleted || obj.metadata.labels?.[LABELS.managedBy] === MANAGED_BY_VALUE) return this.hosts.dropForeign(id);
    this.hosts.setForeign(id, (obj.spec as { hosts?: string[] } | undefined)?.hosts ?? []);
  }

  /** Forgets the foreign hosts of every namespace we do not write to (ours come with their own streams). */
  private dropElsewhere(): void {
    for (const id of this.hosts.foreignIds()) if (!this.namespaces.includes(id.slice(0, id.indexOf('/')))) this.hosts.dropForeign(id);
  }

  stop(): void {
    for (const s of this.stops) s();
    this.stops = [];
    this.syncedSet.clear();
  }

  /** True once every namespace and kind has been listed and is being watched, and the cluster-wide hosts are known (or known to be forbidden). */
  synced(): boolean {
    return this.syncedSet.size === this.namespaces.length * 2 + 1;
  }

  get(kind: CachedKind, namespace: string, name: string): CachedObject | undefined {
    return this.objects.get(ObjectCache.id(kind, namespace, name));
  }

  /** Records what we just wrote (the watch event follows and agrees). */
  remember(kind: CachedKind, obj: KubeObject): CachedObject {
    const c = this.toCached(kind, obj);
    this.put(c);
    return c;
  }

  forget(kind: CachedKind, namespace: string, name: string): void {
    this.remove(ObjectCache.id(kind, namespace, name));
  }

  workloadEntriesOf(namespace: string, serviceEntry: string): CachedObject[] {
    const out: CachedObject[] = [];
    for (const o of this.objects.values()) if (o.kind === 'WorkloadEntry' && o.namespace === namespace && o.serviceEntry === serviceEntry && o.owned) out.push(o);
    return out;
  }

  /** namespace/name of every ServiceEntry we own that needs an address and has none yet. */
  ownedWithoutAddress(): string[] {
    const out: string[] = [];
    for (const o of this.objects.values()) if (o.kind === 'ServiceEntry' && o.owned && o.needsAddress) out.push(`${o.namespace}/${o.name}`);
    return out.sort();
  }

  /** WorkloadEntries we own whose ServiceEntry (our label) is not there: nothing of ours selects them any more. */
  orphanWorkloadEntries(): CachedObject[] {
    const out: CachedObject[] = [];
    for (const o of this.objects.values()) {
      if (o.kind === 'WorkloadEntry' && o.owned && o.serviceEntry && !this.get('ServiceEntry', o.namespace, o.serviceEntry)) out.push(o);
    }
    return out;
  }

  /** service key -> namespace/name of every ServiceEntry we own. */
  ownedServiceEntries(): Map<string, string> {
    const out = new Map<string, string>();
    for (const o of this.objects.values()) if (o.kind === 'ServiceEntry' && o.owned && o.key) out.set(o.key, `${o.namespace}/${o.name}`);
    return out;
  }

  size(): number {
    return this.objects.size;
  }

  private onEvent(kind: CachedKind, type: 'ADDED' | 'MODIFIED' | 'DELETED', obj: KubeObject): void {
    const c = this.toCached(kind, obj);
    const id = ObjectCache.id(kind, c.namespace, c.name);
    if (type === 'DELETED') {
      this.remove(id);
      if (c.owned && c.key) this.onDrift(c.key, c, 'DELETED');
      return;
    }
    this.put(c);
    // Our own writes carry a hash that matches their content; anything else is a hand edit.
    if (c.owned && c.key && type === 'MODIFIED' && specHash({ metadata: { labels: c.labels, annotations: c.annotations }, spec: JSON.parse(c.specJson) }) !== c.annotations[ANNOTATIONS.specHash]) {
      this.onDrift(c.key, c, 'MODIFIED');
    }
  }

  private put(c: CachedObject): void {
    const id = ObjectCache.id(c.kind, c.namespace, c.name);
    this.remove(id);
    this.objects.set(id, c);
    if (c.kind === 'ServiceEntry' && !c.owned) this.hosts.setForeign(`${c.namespace}/${c.name}`, c.hosts);
  }

  private remove(id: string): void {
    const prev = this.objects.get(id);
    if (!prev) return;
    this.objects.delete(id);
    if (prev.kind === 'ServiceEntry' && !prev.owned) this.hosts.dropForeign(`${prev.namespace}/${prev.name}`);
  }

  toCached(kind: CachedKind, obj: KubeObject): CachedObject {
    const spec = (obj.spec ?? {}) as { hosts?: string[] } & Parameters<typeof needsAddress>[0];
    const labels = obj.metadata.labels ?? {};
    return {
      kind,
      namespace: obj.metadata.namespace ?? '',
      name: obj.metadata.name,
      uid: obj.metadata.uid,
      specJson: canonicalJson(obj.spec ?? {}),
      labels,
      annotations: obj.metadata.annotations ?? {},
      owned: isOwnedBy(obj.metadata, this.installation),
      hosts: kind === 'ServiceEntry' ? (spec.hosts ?? []) : [],
      key: obj.metadata.annotations?.[ANNOTATIONS.serviceKey],
      serviceEntry: labels[LABELS.serviceEntry],
      needsAddress: kind === 'ServiceEntry' ? needsAddress(spec, (obj as { status?: Parameters<typeof needsAddress>[1] }).status) : undefined,
    };
  }
}
