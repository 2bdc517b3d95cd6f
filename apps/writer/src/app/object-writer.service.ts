import { Inject, Injectable } from '@nestjs/common';
import { EventTarget, KubeClient, KubeError, KubeObject } from '@registry-bridge/kube';
import { ANNOTATIONS, isOwnedBy, matches, WorkloadEntryObject } from '@registry-bridge/translation';
import type { Logger } from 'pino';
import { LeadershipService } from './leadership.service';
import { CachedObject, ObjectCache } from './object-cache.service';
import { EVENTS, KUBE, LOGGER, WriterEvents } from './writer.tokens';
import { WriterMetrics } from './writer-metrics.service';

const SE = { apiVersion: 'networking.istio.io/v1', kind: 'ServiceEntry' } as const;
const WE = { apiVersion: 'networking.istio.io/v1', kind: 'WorkloadEntry' } as const;

/** What the writer does with the API server. */
export type KubeWrites = Pick<KubeClient, 'get' | 'list' | 'apply' | 'delete'>;

/** Thrown when leadership was lost mid-reconcile: the job is retried by the next leader. */
export class NotLeaderError extends Error {
  constructor() {
    super('not the leader');
  }
}

/**
 * The Reconciler's hands on the API server: reads what is live (the watch cache, or a GET while it
 * is not synced), applies only onto the object it saw, syncs WorkloadEntries, deletes exactly one
 * owned ServiceEntry, records Events; every write checks the lease first and keeps the cache current.
 */
@Injectable()
export class ObjectWriter {
  constructor(
    @Inject(KUBE) private readonly kube: KubeWrites,
    private readonly cache: ObjectCache,
    @Inject(LeadershipService) private readonly leadership: Pick<LeadershipService, 'isLeader'>,
    private readonly metrics: WriterMetrics,
    @Inject(LOGGER) private readonly log: Logger,
    @Inject(EVENTS) private readonly events: WriterEvents,
  ) {}

  private guard(): void {
    if (!this.leadership.isLeader()) throw new NotLeaderError();
  }

  /** Events are best effort: a failure to record one never fails a reconcile. No target: the writer's Lease. */
  event(target: EventTarget | undefined, type: 'Normal' | 'Warning', reason: string, message: string, orFallback = false): void {
    const to = target ?? (orFallback ? this.events.fallback : undefined);
    if (!to || !this.events.recorder || !this.leadership.isLeader()) return;
    this.events.recorder.record(to, type, reason, message).catch((err: Error) => this.log.debug({ err: err.message, reason }, 'event not recorded'));
  }

  /** The ServiceEntry as an Event's target, with its uid when the cache knows it. */
  target(namespace: string | undefined, name: string | undefined): EventTarget | undefined {
    if (!namespace || !name) return undefined;
    return { ...SE, namespace, name, uid: this.cache.get('ServiceEntry', namespace, name)?.uid };
  }

  /** What is live for a ServiceEntry: from the watch cache, or a GET while the cache is not synced. */
  async live(namespace: string, name: string): Promise<CachedObject | undefined> {
    const cached = this.cache.get('ServiceEntry', namespace, name);
    if (cached || this.cache.synced()) return cached;
    this.guard();
    const obj = await this.kube.get<KubeObject>(SE.apiVersion, SE.kind, namespace, name);
    return obj ? this.cache.toCached('ServiceEntry', obj) : undefined;
  }

  /** Applies a ServiceEntry; with the live uid it only lands on the object we saw (a replaced one fails with 409). */
  async applyServiceEntry(se: KubeObject, live: CachedObject | undefined): Promise<void> {
    this.guard();
    const body = live?.uid ? { ...se, metadata: { ...se.metadata, uid: live.uid } } : se;
    try {
      this.cache.remember('ServiceEntry', await this.kube.apply(body));
    } catch (err) {
      if (err instanceof KubeError && err.status === 409) this.cache.forget('ServiceEntry', se.metadata.namespace ?? '', se.metadata.name);
      throw err;
    }
    this.metrics.writes.inc({ kind: 'ServiceEntry', action: live ? 'update' : 'create' });
  }

  /** Makes the ServiceEntry's WorkloadEntries exactly `desired`; true when it wrote anything. */
  async syncWorkloadEntries(namespace: string, seName: string, desired: WorkloadEntryObject[]): Promise<boolean> {
    let live: CachedObject[];
    if (this.cache.synced()) {
      live = this.cache.workloadEntriesOf(namespace, seName);
    } else {
      this.guard();
      const listed = await this.kube.list<KubeObject>(WE.apiVersion, WE.kind, namespace, `registry-bridge.io/service-entry=${seName}`);
      live = listed.map((o) => this.cache.toCached('WorkloadEntry', o)).filter((o) => o.owned);
    }
    const byName = new Map(live.map((o) => [o.name, o]));
    let wrote = false;
    for (const we of desired) {
      const cur = byName.get(we.metadata.name);
      byName.delete(we.metadata.name);
      if (cur && matches(we, cur)) {
        this.metrics.noops.inc({ kind: 'WorkloadEntry' });
        continue;
      }
      this.guard();
      this.cache.remember('WorkloadEntry', await this.kube.apply(we as KubeObject));
      this.metrics.writes.inc({ kind: 'WorkloadEntry', action: cur ? 'update' : 'create' });
      wrote = true;
    }
    for (const stale of byName.values()) {
      this.guard();
      await this.kube.delete(WE.apiVersion, WE.kind, namespace, stale.name, { uid: stale.uid });
      this.cache.forget('WorkloadEntry', namespace, stale.name);
      this.metrics.writes.inc({ kind: 'WorkloadEntry', action: 'delete' });
      wrote = true;
    }
    return wrote;
  }

  /** The ServiceEntry read fresh from the API server, if it is this installation's object of `key`. */
  async ownedFresh(namespace: string, name: string, installation: string, key: string): Promise<KubeObject | undefined> {
    this.guard();
    const live = await this.kube.get<KubeObject>(SE.apiVersion, SE.kind, namespace, name);
    const ours = live && isOwnedBy(live.metadata, installation) && live.metadata.annotations?.[ANNOTATIONS.serviceKey] === key;
    if (!ours) this.cache.forget('ServiceEntry', namespace, name);
    return ours ? live : undefined;
  }

  /** Deletes a ServiceEntry seen by `ownedFresh` (its uid: nothing else) after its WorkloadEntries. */
  async deleteServiceEntry(live: KubeObject): Promise<void> {
    const namespace = live.metadata.namespace ?? '';
    const name = live.metadata.name;
    await this.syncWorkloadEntries(namespace, name, []);
    this.guard();
    await this.kube.delete(SE.apiVersion, SE.kind, namespace, name, { uid: live.metadata.uid });
    this.metrics.writes.inc({ kind: 'ServiceEntry', action: 'delete' });
    this.cache.forget('ServiceEntry', namespace, name);
  }
}
