import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG } from '@registry-bridge/app-config';
import { parseServiceKey } from '@registry-bridge/contract';
import { EventTarget, KubeObject } from '@registry-bridge/kube';
import { ANNOTATIONS, matches, objectName, shortHash, SourceRules, translateRecord } from '@registry-bridge/translation';
import { WriterConfig } from '@registry-bridge/config/writer';
import type { Logger } from 'pino';
import { DeletionHold, DeletionPolicy } from './deletion.policy';
import { emptiedServiceEntry } from './emptied-service-entry';
import { HostIndex } from './host-index.service';
import { ObjectWriter } from './object-writer.service';
import { isPermanentRejection } from './permanent-rejection';
import { KeyState, StateStore } from './state-store.service';
import { RefusedObject, StatusBoard } from './status-board.service';
import { LOGGER, SOURCE_RULES } from './writer.tokens';
import { WriterMetrics } from './writer-metrics.service';

export type ReconcileOutcome =
  | { action: 'applied' | 'noop' | 'deleted' | 'gone' }
  | { action: 'refused'; reason: string; retryInMs?: number }
  | { action: 'held'; reason: string; retryInMs: number };

/** What the Reconciler reads and records of the durable state. */
export type ReconcileState = Pick<
  StateStore,
  'get' | 'completeSnapshot' | 'status' | 'sourceKeys' | 'deletionsInWindow' | 'takeDeletion' | 'markApplied' | 'markRefused' | 'markRetired' | 'forget'
>;

/**
 * Turns the newest state of one service key into Kubernetes objects: plan (translate), check
 * ownership and collisions, apply only what differs, delete only under the safety rules.
 */
@Injectable()
export class Reconciler {
  constructor(
    @Inject(StateStore) private readonly store: ReconcileState,
    @Inject(SOURCE_RULES) private readonly rules: Map<string, SourceRules>,
    @Inject(APP_CONFIG) private readonly cfg: Pick<WriterConfig, 'events'>,
    private readonly metrics: WriterMetrics,
    @Inject(LOGGER) private readonly log: Logger,
    private readonly objects: ObjectWriter,
    private readonly hosts: HostIndex,
    private readonly policy: DeletionPolicy,
    private readonly board: StatusBoard,
  ) {}

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

  private async reconcileUpsert(key: string, rules: SourceRules, state: KeyState): Promise<ReconcileOutcome> {
    const record = state.record;
    if (!record) return { action: 'gone' };
    const result = translateRecord(record, rules);
    if (!result.ok) return this.refuseKey(key, rules, state, result.reason, result.detail, this.objects.target(state.namespace, state.name));
    for (const [reason, n] of Object.entries(result.dropCounts)) this.metrics.drops.inc({ source: rules.source, reason }, n);
    if (result.drops.length) this.log.debug({ key, drops: result.drops.slice(0, 10) }, 'dropped parts of a record');

    const se = result.serviceEntry;
    const { namespace, name } = se.metadata;
    const id = `${namespace}/${name}`;
    // Duplicate hosts break Istio: refuse when another object (ours or not) already has it.
    const foreign = this.hosts.foreignHolder(result.host, id);
    if (foreign) {
      const [fns, fname] = foreign.split('/');
      return this.refuseKey(key, rules, state, 'host-collision', `host ${result.host} is already used by ServiceEntry ${foreign} (not managed by this installation)`, this.objects.target(fns, fname));
    }
    const holder = await this.hosts.claim(result.host, key);
    if (holder) return this.refuseKey(key, rules, state, 'host-collision', `host ${result.host} is already claimed by service ${holder}`, this.objects.target(state.namespace, state.name));
    if (state.host && state.host !== result.host) await this.hosts.release(state.host, key);

    const live = await this.objects.live(namespace, name);
    if (live && !live.owned) {
      await this.hosts.release(result.host, key);
      return this.refuse(key, rules.source, 'name-collision', `ServiceEntry ${id} exists and is not managed by registry-bridge installation ${rules.installation}; left alone`, this.objects.target(namespace, name));
    }

    // What the API server rejected for good is not sent again until it changes.
    const desiredHash = se.metadata.annotations[ANNOTATIONS.specHash];
    const attemptHash = shortHash([desiredHash, ...result.workloadEntries.map((w) => w.metadata.annotations[ANNOTATIONS.specHash])].join(','), 16);
    if (state.rejectedHash === attemptHash && state.refused) {
      const [reason, ...detail] = state.refused.split(': ');
      return this.refuseKey(key, rules, state, reason, detail.join(': '), this.objects.target(namespace, name), attemptHash);
    }

    let wrote = false;
    try {
      if (live && matches(se, live)) {
        this.metrics.noops.inc({ kind: 'ServiceEntry' });
      } else {
        await this.objects.applyServiceEntry(se as KubeObject, live);
        wrote = true;
      }

      if (rules.endpointMode === 'workloadEntry' || state.mode === 'workloadEntry') {
        wrote = (await this.objects.syncWorkloadEntries(namespace, name, result.workloadEntries)) || wrote;
      }
    } catch (err) {
      if (!isPermanentRejection(err)) throw err;
      // Retrying cannot help (invalid, too large): refused with the API server's reason instead.
      return this.refuseKey(key, rules, state, 'rejected', `the API server rejected it: ${err.message}`, this.objects.target(namespace, name), attemptHash);
    }
    await this.store.markApplied(key, { appliedHash: desiredHash, name, namespace, host: result.host, mode: rules.endpointMode });
    this.board.clearRefusal(key);
    if (wrote) {
      this.metrics.propagation.observe({ source: rules.source }, Math.max(0, Date.now() - Date.parse(record.observedAt)) / 1000);
      if (this.cfg.events.applied) this.objects.event(this.objects.target(namespace, name), 'Normal', 'Applied', `applied revision ${record.revision} of ${key}`);
    }
    return { action: wrote ? 'applied' : 'noop' };
  }

  /** Gathers what the deletion policy needs and asks it; a trip that is not routine is logged, counted and evented. */
  private async deletionHold(key: string, source: string, state: KeyState, cause: 'removed' | 'refused', since: number, now: number, refusal?: string): Promise<{ hold?: DeletionHold; budget: number }> {
    const snapshot = await this.store.completeSnapshot(source);
    const total = Math.max(snapshot?.keys.size ?? 0, (await this.store.sourceKeys(source)).length);
    const hold = this.policy.hold({
      key,
      source,
      now,
      cause,
      refusal: refusal === undefined ? undefined : { reason: refusal, instances: state.record?.endpoints.length ?? 0 },
      status: await this.store.status(source),
      snapshot,
      stateObservedAt: state.observedAt,
      since,
      total,
      deletionsInWindow: await this.store.deletionsInWindow(source, this.policy.windowMs, now),
    });
    if (hold) this.reportHold(key, source, state, hold, now);
    return { hold, budget: this.policy.budget(total) };
  }

  private reportHold(key: string, source: string, state: Pick<KeyState, 'namespace' | 'name'>, hold: DeletionHold, now: number): void {
    if (this.policy.routine(hold)) return;
    this.board.tripGuard(source, hold, now);
    this.log.warn({ key, source, guard: hold.guard }, `deletion held: ${hold.detail}`);
    this.objects.event(this.objects.target(state.namespace, state.name), 'Warning', 'DeletionHeld', holdText(hold));
  }

  /**
   * Deletes a key's ServiceEntry and its WorkloadEntries, read fresh: only exactly what is there
   * now, and only if it is ours. The deletion is taken from the source's budget atomically right
   * before it happens; a hold when the budget ran out in the meantime (another key took it).
   */
  private async deleteOwned(key: string, source: string, rules: SourceRules, namespace: string, name: string, budget: number, now: number): Promise<'deleted' | 'absent' | DeletionHold> {
    const live = await this.objects.ownedFresh(namespace, name, rules.installation, key);
    if (!live) return 'absent';
    if (!(await this.store.takeDeletion(source, key, budget, this.policy.windowMs, now))) {
      const hold = this.policy.budgetHold(source, budget);
      this.reportHold(key, source, { namespace, name }, hold, now);
      return hold;
    }
    await this.objects.deleteServiceEntry(live);
    return 'deleted';
  }

  private async reconcileDeletion(key: string, source: string, rules: SourceRules, state: KeyState, now: number): Promise<ReconcileOutcome> {
    const { hold, budget } = await this.deletionHold(key, source, state, 'removed', state.removedAt ?? now, now);
    if (hold) return held(hold);
    if (state.name) {
      const done = await this.deleteOwned(key, source, rules, state.namespace ?? rules.namespace, state.name, budget, now);
      if (typeof done === 'object') return held(done);
    }
    if (state.host) await this.hosts.release(state.host, key);
    await this.store.forget(key, source, state.observedAt);
    this.board.clearRefusal(key);
    return { action: 'deleted' };
  }

  /**
   * A refusal of a key that may have an object of ours: the refusal is reported, and the object
   * (written before the key became refused) does not keep serving stale endpoints: it is emptied
   * at once and deleted under the deletion rules, counting from the first refusal.
   */
  private async refuseKey(key: string, rules: SourceRules, state: KeyState, reason: string, detail: string, target: EventTarget | undefined, rejectedHash?: string, now = Date.now()): Promise<ReconcileOutcome> {
    const outcome = await this.refuse(key, rules.source, reason, detail, target, rejectedHash);
    const retired = await this.retire(key, rules, state, reason, `${reason}: ${detail}`, now);
    if (!retired) return outcome;
    this.board.setRefusedObject(key, retired.object);
    return { ...outcome, retryInMs: retired.retryInMs };
  }

  private async retire(key: string, rules: SourceRules, state: KeyState, reason: string, why: string, now: number): Promise<{ object: RefusedObject; retryInMs?: number } | undefined> {
    const parts = parseServiceKey(key);
    // The name is deterministic: an object is found even when Redis lost what we wrote.
    const name = state.name ?? objectName([parts.source, parts.scope ?? '', parts.service], key);
    const namespace = state.namespace ?? rules.namespace;
    const live = await this.objects.live(namespace, name);
    if (!live || !live.owned || live.key !== key) return undefined;
    const id = `${namespace}/${name}`;
    let emptied = false;
    const empty = emptiedServiceEntry(live, why);
    if (!matches(empty, live)) {
      await this.objects.applyServiceEntry(empty as KubeObject, live);
      emptied = true;
    }
    emptied = (await this.objects.syncWorkloadEntries(namespace, name, [])) || emptied;
    if (emptied) {
      this.metrics.refusedObjects.inc({ source: rules.source, action: 'emptied' });
      this.log.warn({ key, object: id }, `refused key's ServiceEntry emptied: ${why}`);
      this.objects.event(this.objects.target(namespace, name), 'Warning', 'Emptied', `${key} is refused (${why}); its endpoints were removed`);
    }
    const { hold, budget } = await this.deletionHold(key, rules.source, { ...state, name, namespace }, 'refused', state.refusedAt ?? now, now, reason);
    if (hold) return { object: { object: id, state: 'emptied', held: holdText(hold) }, retryInMs: hold.retryInMs };
    const done = await this.deleteOwned(key, rules.source, rules, namespace, name, budget, now);
    if (typeof done === 'object') return { object: { object: id, state: 'emptied', held: holdText(done) }, retryInMs: done.retryInMs };
    const object: RefusedObject = { object: id, state: 'deleted' };
    // Shown at once: /status must not call an object that is gone 'emptied' while Redis catches up.
    this.board.setRefusedObject(key, object);
    if (done === 'deleted') {
      this.metrics.refusedObjects.inc({ source: rules.source, action: 'deleted' });
      this.log.warn({ key, object: id }, `refused key's ServiceEntry deleted: ${why}`);
    }
    if (state.host) await this.hosts.release(state.host, key);
    await this.store.markRetired(key);
    return { object };
  }

  private async refuse(key: string, source: string, reason: string, detail: string, target?: EventTarget, rejectedHash?: string): Promise<{ action: 'refused'; reason: string }> {
    this.objects.event(target, 'Warning', 'Refused', `${key}: ${reason}: ${detail}`, true);
    this.metrics.refused.inc({ source, reason });
    const prev = this.board.refusal(key);
    if (!prev || prev.reason !== reason) this.log.warn({ key, source, reason }, `refused: ${detail}`);
    // What happened to the key's object stays reported while the reason holds.
    this.board.setRefusal(key, { reason, detail, at: new Date().toISOString(), object: prev?.reason === reason ? prev.object : undefined });
    await this.store.markRefused(key, `${reason}: ${detail}`, Date.now(), rejectedHash);
    return { action: 'refused', reason: `${reason}: ${detail}` };
  }
}

/** A deletion that waits; a hold with no retry of its own is looked at again by the next record. */
function held(hold: DeletionHold): ReconcileOutcome {
  return { action: 'held', reason: holdText(hold), retryInMs: hold.retryInMs ?? 10_000 };
}

/** A kept-empty object says why in plain words; every other hold names its guard. */
function holdText(hold: DeletionHold): string {
  return hold.guard === 'kept-empty' ? hold.detail : `${hold.guard}: ${hold.detail}`;
}
