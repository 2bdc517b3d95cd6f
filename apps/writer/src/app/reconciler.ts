import { parseServiceKey } from '@registry-bridge/contract';
import { EventRecorder, EventTarget, KubeClient, KubeError, KubeObject } from '@registry-bridge/kube';
import { ANNOTATIONS, isOwnedBy, matches, objectName, shortHash, SourceRules, translateRecord, WorkloadEntryObject } from '@registry-bridge/translation';
import type { Logger } from 'pino';
import { budgetHold, deletionBudget, DeletionHold, deletionHold, emptiedServiceEntry, isPermanentRejection, ROUTINE_HOLDS } from './deletion-rules';
import { CachedObject, ObjectCache } from './object-cache';
import { KeyState, StateStore } from './state-store';
import { WriterConfig } from '@registry-bridge/translation';
import { WriterMetrics } from './writer-metrics';

const SE = { apiVersion: 'networking.istio.io/v1', kind: 'ServiceEntry' } as const;
const WE = { apiVersion: 'networking.istio.io/v1', kind: 'WorkloadEntry' } as const;

export type ReconcileOutcome =
  | { action: 'applied' | 'noop' | 'deleted' | 'gone' }
  | { action: 'refused'; reason: string; retryInMs?: number }
  | { action: 'held'; reason: string; retryInMs: number };

/** Thrown when leadership was lost mid-reconcile: the job is retried by the next leader. */
export class NotLeaderError extends Error {
  constructor() {
    super('not the leader');
  }
}

/**
 * Turns the newest state of one service key into Kubernetes objects: plan (translate), check
 * ownership and collisions, apply only what differs, delete only under the safety rules.
 */
/** A refused key's object, if it had one: emptied at once, deleted under the deletion rules. */
export interface RefusedObject {
  object: string;
  state: 'emptied' | 'deleted';
  /** Why the deletion of an emptied object still waits. */
  held?: string;
}

export class Reconciler {
  readonly refused = new Map<string, { reason: string; detail: string; at: string; object?: RefusedObject }>();
  readonly guardTrips = new Map<string, { guard: string; detail: string; at: string }>();

  constructor(
    private readonly kube: KubeClient,
    private readonly store: StateStore,
    private readonly rules: Map<string, SourceRules>,
    private readonly cfg: WriterConfig,
    private readonly metrics: WriterMetrics,
    private readonly log: Logger,
    private readonly isLeader: () => boolean,
    readonly cache: ObjectCache,
    private readonly events?: EventRecorder,
    /** Where a refusal is recorded when the key has no object of its own (the writer's Lease). */
    private readonly fallbackTarget?: EventTarget,
  ) {}

  /** Events are best effort: a failure to record one never fails a reconcile. */
  private event(target: EventTarget | undefined, type: 'Normal' | 'Warning', reason: string, message: string): void {
    if (!target || !this.events || !this.isLeader()) return;
    this.events.record(target, type, reason, message).catch((err: Error) => this.log.debug({ err: err.message, reason }, 'event not recorded'));
  }

  private seTarget(namespace: string | undefined, name: string | undefined): EventTarget | undefined {
    if (!namespace || !name) return undefined;
    return { ...SE, namespace, name, uid: this.cache.get('ServiceEntry', namespace, name)?.uid };
  }

  private guard(): void {
    if (!this.isLeader()) throw new NotLeaderError();
  }

  /** Reconciles one key; never throws for bad data, only for retryable infrastructure errors. */
  async reconcile(key: string, now = Date.now()): Promise<ReconcileOutcome> {
    const started = Date.now();
    const state = await this.store.get(key);
    const parts = parseServiceKey(key);
    const rules = this.rules.get(parts.source);
    if (!rules) return { action: 'refused', reason: `source ${parts.source} is not configured` };
    let outcome: ReconcileOutcome;
    if (!state) outcome = { action: 'gone' };
    else if (state.deleted) outcome = await this.reconcileDeletion(key, parts.source, rules, state, now);
    else outcome = await this.reconcileUpsert(key, rules, state);
    this.metrics.reconcileSeconds.observe({ action: outcome.action }, (Date.now() - started) / 1000);
    return outcome;
  }

  /** What is live for a ServiceEntry: from the watch cache, or a GET while the cache is not synced. */
  private async live(namespace: string, name: string): Promise<CachedObject | undefined> {
    const cached = this.cache.get('ServiceEntry', namespace, name);
    if (cached || this.cache.synced()) return cached;
    this.guard();
    const obj = await this.kube.get<KubeObject>(SE.apiVersion, SE.kind, namespace, name);
    return obj ? this.cache.toCached('ServiceEntry', obj) : undefined;
  }

  private async reconcileUpsert(key: string, rules: SourceRules, state: KeyState): Promise<ReconcileOutcome> {
    const record = state.record;
    if (!record) return { action: 'gone' };
    const result = translateRecord(record, rules);
    if (!result.ok) return this.refuseKey(key, rules, state, result.reason, result.detail, this.seTarget(state.namespace, state.name));
    for (const [reason, n] of Object.entries(result.dropCounts)) this.metrics.drops.inc({ source: rules.source, reason }, n);
    if (result.drops.length) this.log.debug({ key, drops: result.drops.slice(0, 10) }, 'dropped parts of a record');

    const se = result.serviceEntry;
    const { namespace, name } = se.metadata;
    const id = `${namespace}/${name}`;
    // Duplicate hosts break Istio: refuse when another object (ours or not) already has it.
    const foreign = this.cache.foreignHolder(result.host, id);
    if (foreign) {
      const [fns, fname] = foreign.split('/');
      return this.refuseKey(key, rules, state, 'host-collision', `host ${result.host} is already used by ServiceEntry ${foreign} (not managed by this installation)`, this.seTarget(fns, fname));
    }
    const holder = await this.store.claimHost(result.host, key);
    if (holder) return this.refuseKey(key, rules, state, 'host-collision', `host ${result.host} is already claimed by service ${holder}`, this.seTarget(state.namespace, state.name));
    if (state.host && state.host !== result.host) await this.store.releaseHost(state.host, key);

    const live = await this.live(namespace, name);
    if (live && !live.owned) {
      await this.store.releaseHost(result.host, key);
      return this.refuse(key, rules.source, 'name-collision', `ServiceEntry ${id} exists and is not managed by registry-bridge installation ${rules.installation}; left alone`, this.seTarget(namespace, name));
    }

    // What the API server rejected for good is not sent again until it changes.
    const desiredHash = se.metadata.annotations[ANNOTATIONS.specHash];
    const attemptHash = shortHash([desiredHash, ...result.workloadEntries.map((w) => w.metadata.annotations[ANNOTATIONS.specHash])].join(','), 16);
    if (state.rejectedHash === attemptHash && state.refused) {
      const [reason, ...detail] = state.refused.split(': ');
      return this.refuseKey(key, rules, state, reason, detail.join(': '), this.seTarget(namespace, name), attemptHash);
    }

    let wrote = false;
    try {
      if (live && matches(se, live)) {
        this.metrics.noops.inc({ kind: 'ServiceEntry' });
      } else {
        this.guard();
        // With a uid the apply only lands on the object we saw: a replaced object fails with 409.
        const body = live?.uid ? { ...se, metadata: { ...se.metadata, uid: live.uid } } : se;
        try {
          this.cache.remember('ServiceEntry', await this.kube.apply(body as KubeObject));
        } catch (err) {
          if (err instanceof KubeError && err.status === 409) this.cache.forget('ServiceEntry', namespace, name);
          throw err;
        }
        this.metrics.writes.inc({ kind: 'ServiceEntry', action: live ? 'update' : 'create' });
        wrote = true;
      }

      if (rules.endpointMode === 'workloadEntry' || state.mode === 'workloadEntry') {
        wrote = (await this.syncWorkloadEntries(namespace, name, result.workloadEntries)) || wrote;
      }
    } catch (err) {
      if (!isPermanentRejection(err)) throw err;
      // Retrying cannot help (invalid, too large): refused with the API server's reason instead.
      return this.refuseKey(key, rules, state, 'rejected', `the API server rejected it: ${err.message}`, this.seTarget(namespace, name), attemptHash);
    }
    await this.store.markApplied(key, { appliedHash: desiredHash, name, namespace, host: result.host, mode: rules.endpointMode });
    this.refused.delete(key);
    if (wrote) {
      this.metrics.propagation.observe({ source: rules.source }, Math.max(0, Date.now() - Date.parse(record.observedAt)) / 1000);
      if (this.cfg.events.applied) this.event(this.seTarget(namespace, name), 'Normal', 'Applied', `applied revision ${record.revision} of ${key}`);
    }
    return { action: wrote ? 'applied' : 'noop' };
  }

  private async syncWorkloadEntries(namespace: string, seName: string, desired: WorkloadEntryObject[]): Promise<boolean> {
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

  /** Gathers what the deletion rules need and judges it; a trip that is not routine is logged, counted and evented. */
  private async deletionHold(key: string, source: string, state: KeyState, cause: 'removed' | 'refused', since: number, now: number): Promise<{ hold?: DeletionHold; budget: number }> {
    const snapshot = await this.store.completeSnapshot(source);
    const windowMs = this.cfg.deletion.windowSeconds * 1000;
    const facts = {
      key,
      source,
      now,
      cause,
      status: await this.store.status(source),
      silenceMs: this.cfg.deletion.sourceSilenceSeconds * 1000,
      snapshot,
      stateObservedAt: state.observedAt,
      since,
      graceMs: this.cfg.deletion.gracePeriodSeconds * 1000,
      total: Math.max(snapshot?.keys.size ?? 0, (await this.store.sourceKeys(source)).length),
      maxDeletes: this.cfg.deletion.maxDeletes,
      maxDeletePercent: this.cfg.deletion.maxDeletePercent,
      windowSeconds: this.cfg.deletion.windowSeconds,
      deletionsInWindow: await this.store.deletionsInWindow(source, windowMs, now),
    };
    const hold = deletionHold(facts);
    if (hold) this.reportHold(key, source, state, hold, now);
    return { hold, budget: deletionBudget(facts.total, facts.maxDeletes, facts.maxDeletePercent) };
  }

  private reportHold(key: string, source: string, state: Pick<KeyState, 'namespace' | 'name'>, hold: DeletionHold, now: number): void {
    if (ROUTINE_HOLDS.has(hold.guard)) return;
    this.metrics.guardTrips.inc({ source, guard: hold.guard });
    this.guardTrips.set(source, { guard: hold.guard, detail: hold.detail, at: new Date(now).toISOString() });
    this.log.warn({ key, source, guard: hold.guard }, `deletion held: ${hold.detail}`);
    this.event(this.seTarget(state.namespace, state.name), 'Warning', 'DeletionHeld', `${hold.guard}: ${hold.detail}`);
  }

  /**
   * Deletes a key's ServiceEntry and its WorkloadEntries, read fresh: only exactly what is there
   * now, and only if it is ours. The deletion is taken from the source's budget atomically right
   * before it happens; a hold when the budget ran out in the meantime (another key took it).
   */
  private async deleteOwned(key: string, source: string, rules: SourceRules, namespace: string, name: string, budget: number, now: number): Promise<'deleted' | 'absent' | DeletionHold> {
    this.guard();
    const live = await this.kube.get<KubeObject>(SE.apiVersion, SE.kind, namespace, name);
    let result: 'deleted' | 'absent' | DeletionHold = 'absent';
    if (live && isOwnedBy(live.metadata, rules.installation) && live.metadata.annotations?.[ANNOTATIONS.serviceKey] === key) {
      if (!(await this.store.takeDeletion(source, key, budget, this.cfg.deletion.windowSeconds * 1000, now))) {
        const hold = budgetHold(source, budget, this.cfg.deletion.windowSeconds);
        this.reportHold(key, source, { namespace, name }, hold, now);
        return hold;
      }
      await this.syncWorkloadEntries(namespace, name, []);
      this.guard();
      await this.kube.delete(SE.apiVersion, SE.kind, namespace, name, { uid: live.metadata.uid });
      this.metrics.writes.inc({ kind: 'ServiceEntry', action: 'delete' });
      result = 'deleted';
    }
    this.cache.forget('ServiceEntry', namespace, name);
    return result;
  }

  private async reconcileDeletion(key: string, source: string, rules: SourceRules, state: KeyState, now: number): Promise<ReconcileOutcome> {
    const { hold, budget } = await this.deletionHold(key, source, state, 'removed', state.removedAt ?? now, now);
    if (hold) return { action: 'held', reason: `${hold.guard}: ${hold.detail}`, retryInMs: hold.retryInMs };
    if (state.name) {
      const done = await this.deleteOwned(key, source, rules, state.namespace ?? rules.namespace, state.name, budget, now);
      if (typeof done === 'object') return { action: 'held', reason: `${done.guard}: ${done.detail}`, retryInMs: done.retryInMs };
    }
    if (state.host) await this.store.releaseHost(state.host, key);
    await this.store.forget(key, source, state.observedAt);
    this.refused.delete(key);
    return { action: 'deleted' };
  }

  /**
   * A refusal of a key that may have an object of ours: the refusal is reported, and the object
   * (written before the key became refused) does not keep serving stale endpoints: it is emptied
   * at once and deleted under the deletion rules, counting from the first refusal.
   */
  private async refuseKey(key: string, rules: SourceRules, state: KeyState, reason: string, detail: string, target: EventTarget | undefined, rejectedHash?: string, now = Date.now()): Promise<ReconcileOutcome> {
    const outcome = await this.refuse(key, rules.source, reason, detail, target, rejectedHash);
    const retired = await this.retire(key, rules, state, `${reason}: ${detail}`, now);
    if (!retired) return outcome;
    const entry = this.refused.get(key);
    if (entry) entry.object = retired.object;
    return { ...outcome, retryInMs: retired.retryInMs };
  }

  private async retire(key: string, rules: SourceRules, state: KeyState, why: string, now: number): Promise<{ object: RefusedObject; retryInMs?: number } | undefined> {
    const parts = parseServiceKey(key);
    // The name is deterministic: an object is found even when Redis lost what we wrote.
    const name = state.name ?? objectName([parts.source, parts.scope ?? '', parts.service], key);
    const namespace = state.namespace ?? rules.namespace;
    const live = await this.live(namespace, name);
    if (!live || !live.owned || live.key !== key) return undefined;
    const id = `${namespace}/${name}`;
    let emptied = false;
    const empty = emptiedServiceEntry(live, why);
    if (!matches(empty, live)) {
      this.guard();
      this.cache.remember('ServiceEntry', await this.kube.apply({ ...empty, metadata: { ...empty.metadata, uid: live.uid } } as KubeObject));
      this.metrics.writes.inc({ kind: 'ServiceEntry', action: 'update' });
      emptied = true;
    }
    emptied = (await this.syncWorkloadEntries(namespace, name, [])) || emptied;
    if (emptied) {
      this.metrics.refusedObjects.inc({ source: rules.source, action: 'emptied' });
      this.log.warn({ key, object: id }, `refused key's ServiceEntry emptied: ${why}`);
      this.event(this.seTarget(namespace, name), 'Warning', 'Emptied', `${key} is refused (${why}); its endpoints were removed`);
    }
    // A service that has no instance left keeps its ServiceEntry, empty (DESIGN: VirtualServices and
    // DestinationRules may point at it); only its removal from the registry deletes it.
    if (!state.record?.endpoints.length && why.startsWith('no-ports:')) return { object: { object: id, state: 'emptied', held: 'no instances: kept empty until the service is removed' } };
    const { hold, budget } = await this.deletionHold(key, rules.source, { ...state, name, namespace }, 'refused', state.refusedAt ?? now, now);
    if (hold) return { object: { object: id, state: 'emptied', held: `${hold.guard}: ${hold.detail}` }, retryInMs: hold.retryInMs };
    const done = await this.deleteOwned(key, rules.source, rules, namespace, name, budget, now);
    if (typeof done === 'object') return { object: { object: id, state: 'emptied', held: `${done.guard}: ${done.detail}` }, retryInMs: done.retryInMs };
    if (done === 'deleted') {
      this.metrics.refusedObjects.inc({ source: rules.source, action: 'deleted' });
      this.log.warn({ key, object: id }, `refused key's ServiceEntry deleted: ${why}`);
    }
    if (state.host) await this.store.releaseHost(state.host, key);
    await this.store.markRetired(key);
    return { object: { object: id, state: 'deleted' } };
  }

  private async refuse(key: string, source: string, reason: string, detail: string, target?: EventTarget, rejectedHash?: string): Promise<{ action: 'refused'; reason: string }> {
    this.event(target ?? this.fallbackTarget, 'Warning', 'Refused', `${key}: ${reason}: ${detail}`);
    this.metrics.refused.inc({ source, reason });
    const prev = this.refused.get(key);
    if (!prev || prev.reason !== reason) this.log.warn({ key, source, reason }, `refused: ${detail}`);
    // What happened to the key's object stays reported while the reason holds.
    this.refused.set(key, { reason, detail, at: new Date().toISOString(), object: prev?.reason === reason ? prev.object : undefined });
    await this.store.markRefused(key, `${reason}: ${detail}`, Date.now(), rejectedHash);
    return { action: 'refused', reason: `${reason}: ${detail}` };
  }
}
