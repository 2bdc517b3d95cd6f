import { Inject, Injectable, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { createRedisConnection, APP_CONFIG } from '@registry-bridge/app-config';
import { parseMessage, parseServiceKey, QUEUES, serviceKey } from '@registry-bridge/contract';
import { EventRecorder, KubeClient, LeaseElector } from '@registry-bridge/kube';
import { createLogger, MetricsService } from '@registry-bridge/observability';
import { Job, Queue, Worker } from 'bullmq';
import type { Cluster, Redis } from 'ioredis';
import { hostname } from 'node:os';
import { KeySerializer } from './key-serializer';
import { ObjectCache } from './object-cache';
import { NotLeaderError, ReconcileOutcome, Reconciler } from './reconciler';
import { StateStore } from './state-store';
import { sourceRules, WriterConfig } from '@registry-bridge/translation';
import { WriterMetrics } from './writer-metrics';
import { TolerantWorker, unreadableReason } from './tolerant-worker';

const RECONCILE_OPTS = { attempts: 25, backoff: { type: 'capped' }, removeOnComplete: true, removeOnFail: { count: 1000 } } as const;

/**
 * The writer's loop: while leader, consume the ingest queue into Redis state, reconcile keys
 * one at a time each, and periodically re-list what we own to repair drift.
 *
 * A record whose key is not being reconciled is reconciled straight from the ingest worker; the
 * reconcile queue (deduplicated per key, with retries) takes what arrives while its key is busy,
 * failures, held keys, drift repairs and resyncs. One BullMQ job per record instead of two halves
 * the Redis round trips on the hot path (BENCHMARKS.md, finding 9).
 */
@Injectable()
export class WriterService implements OnModuleInit, OnApplicationShutdown {
  readonly log;
  readonly redis: Redis | Cluster;
  readonly store: StateStore;
  readonly kube: KubeClient;
  readonly elector?: LeaseElector;
  readonly reconciler: Reconciler;
  readonly cache: ObjectCache;
  readonly metrics: WriterMetrics;
  readonly rules;
  private readonly queues: { ingest: Queue; reconcile: Queue; deadLetter: Queue };
  private workers: Worker[] = [];
  /** One reconcile per key at a time, whichever path it came by. */
  private readonly reconciling = new KeySerializer<ReconcileOutcome>();
  private resyncTimer?: NodeJS.Timeout;
  private leading = false;
  private stopping = false;
  lastResync?: { at: string; objects: number; keys: number; orphans: number; orphanWorkloadEntries: number; error?: string };
  private kubeReachable = { ok: false, at: 0, error: '' };

  constructor(
    @Inject(APP_CONFIG) readonly cfg: WriterConfig,
    metricsService: MetricsService,
  ) {
    this.log = createLogger({ app: 'writer', level: cfg.log.level });
    this.metrics = new WriterMetrics(metricsService);
    this.rules = sourceRules(cfg);
    this.redis = createRedisConnection(cfg.redis, { connectionName: 'rb-writer' });
    this.store = new StateStore(this.redis, cfg.redis.prefix);
    this.kube = KubeClient.fromOptions({
      ...cfg.kubernetes,
      onRequest: (verb, kind, outcome) => this.metrics.kubeRequests.inc({ verb, kind, outcome }),
    });
    const connection = this.redis;
    const prefix = cfg.redis.prefix;
    this.queues = {
      ingest: new Queue(QUEUES.ingest, { connection, prefix }),
      reconcile: new Queue(QUEUES.reconcile, { connection, prefix }),
      deadLetter: new Queue(QUEUES.deadLetter, { connection, prefix }),
    };
    if (cfg.leaderElection.enabled) {
      this.elector = new LeaseElector(this.kube, {
        namespace: cfg.leaderElection.namespace,
        name: cfg.leaderElection.leaseName,
        identity: cfg.leaderElection.identity ?? `${hostname()}-${process.pid}`,
        leaseDurationSeconds: cfg.leaderElection.leaseDurationSeconds,
        renewDeadlineSeconds: cfg.leaderElection.renewDeadlineSeconds,
        retryPeriodSeconds: cfg.leaderElection.retryPeriodSeconds,
      });
    }
    const identity = cfg.leaderElection.identity ?? `${hostname()}-${process.pid}`;
    const events = cfg.events.enabled ? new EventRecorder(this.kube, 'registry-bridge-writer', identity) : undefined;
    // A refusal with no object of its own (say a host outside the allow-list) is recorded on the
    // Lease: it exists for every installation and operators look at it for the writer anyway.
    const lease = { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', namespace: cfg.leaderElection.namespace, name: cfg.leaderElection.leaseName };
    const namespaces = [...new Set([...this.rules.values()].map((r) => r.namespace))];
    this.cache = new ObjectCache(this.kube, namespaces, cfg.installation, this.log, (key, obj, type) => {
      if (!this.isLeader()) return;
      this.log.info({ key, object: `${obj.kind} ${obj.namespace}/${obj.name}`, change: type }, 'managed object changed by someone else; reconciling');
      void this.enqueueKey(key).catch((err: Error) => this.log.warn({ key, err: err.message }, 'could not enqueue drift repair'));
    });
    this.reconciler = new Reconciler(this.kube, this.store, this.rules, cfg, this.metrics, this.log, () => this.isLeader(), this.cache, events, lease);
    metricsService.gauge('registry_bridge_queue_depth', 'Jobs per queue and state', ['queue', 'state'], async (g) => {
      for (const [name, q] of Object.entries(this.queues)) {
        const counts = await q.getJobCounts('waiting', 'active', 'delayed', 'failed', 'prioritized');
        for (const [state, n] of Object.entries(counts)) g.set({ queue: name, state }, n);
      }
    });
    metricsService.gauge('registry_bridge_source_reachable', '1 when the source reported itself reachable and was heard recently', ['source'], async (g) => {
      for (const s of this.rules.keys()) {
        const st = await this.store.status(s);
        g.set({ source: s }, st && st.reachable && Date.now() - st.heardAt < cfg.deletion.sourceSilenceSeconds * 1000 ? 1 : 0);
      }
    });
    metricsService.gauge('registry_bridge_source_staleness_seconds', 'Seconds since the source was last heard from', ['source'], async (g) => {
      for (const s of this.rules.keys()) {
        const st = await this.store.status(s);
        if (st) g.set({ source: s }, (Date.now() - st.heardAt) / 1000);
      }
    });
    metricsService.gauge('registry_bridge_tcp_entries_without_address', 'Owned ServiceEntries with an opaque TCP port and no address yet (neither spec.addresses nor istiod-allocated status.addresses): they share 0.0.0.0:<port> in sidecars', [], (g) => {
      g.set(this.cache.ownedWithoutAddress().length);
    });
    metricsService.gauge('registry_bridge_source_snapshot_complete', '1 once the source delivered a complete snapshot', ['source'], async (g) => {
      for (const s of this.rules.keys()) g.set({ source: s }, (await this.store.completeSnapshot(s)) ? 1 : 0);
    });
  }

  isLeader(): boolean {
    return !this.stopping && (this.elector ? this.elector.isLeader() : this.leading);
  }

  async onModuleInit(): Promise<void> {
    if (this.elector) {
      this.elector.on('started-leading', () => void this.startLeading());
      this.elector.on('stopped-leading', () => void this.stopLeading());
      this.elector.on('error', (err: Error) => this.log.warn({ err: err.message }, 'leader election'));
      this.elector.start();
    } else {
      void this.startLeading();
    }
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopping = true;
    await this.stopLeading();
    await this.elector?.stop(true);
    await Promise.all(Object.values(this.queues).map((q) => q.close()));
    this.redis.disconnect();
  }

  private async startLeading(): Promise<void> {
    if (this.leading || this.stopping) return;
    this.leading = true;
    this.metrics.leader.set(1);
    this.log.info({ identity: this.elector?.options.identity }, 'started leading');
    this.cache.start();
    try {
      await this.fullResync();
    } catch (err) {
      this.log.error({ err: (err as Error).message }, 'initial resync failed; workers start anyway, resync retries on schedule');
    }
    if (!this.leading) return;
    const connection = createRedisConnection(this.cfg.redis, { forWorker: true, connectionName: 'rb-writer-worker' });
    const settings = { backoffStrategy: (attempts: number) => Math.min(30_000, 250 * 2 ** attempts) };
    const prefix = this.cfg.redis.prefix;
    // Jobs a killed leader held stay locked until their lock expires and the stalled check moves
    // them back; BullMQ's 30 s defaults would hold those keys (and their deduplicated follow-ups)
    // for up to a minute after a takeover. Locks about as long as the Lease keep that short.
    const leaseMs = this.cfg.leaderElection.leaseDurationSeconds * 1000;
    const locking = { lockDuration: Math.max(5000, leaseMs), stalledInterval: Math.max(2000, Math.floor(leaseMs / 2)), maxStalledCount: 5 };
    this.workers = [
      new TolerantWorker(QUEUES.ingest, (job) => this.ingest(job), { connection, prefix, concurrency: this.cfg.reconcile.ingestConcurrency, settings, ...locking }),
      new TolerantWorker(QUEUES.reconcile, (job) => this.reconcileJob(job), { connection, prefix, concurrency: this.cfg.reconcile.concurrency, settings, ...locking }),
    ];
    for (const w of this.workers) {
      w.on('failed', (job, err) => this.log.warn({ queue: w.name, jobId: job?.id, job: job?.name, key: (job?.data as { key?: string } | undefined)?.key, err: err.message }, 'job failed'));
      // Without a listener BullMQ prints the raw stack to stderr; our logs are JSON.
      w.on('error', (err) => this.log.error({ queue: w.name, err: err.message }, 'queue worker error'));
    }
    if (this.cfg.reconcile.fullResyncSeconds > 0) {
      this.resyncTimer = setInterval(() => void this.fullResync(true).catch((err) => this.log.error({ err: (err as Error).message }, 'resync failed')), this.cfg.reconcile.fullResyncSeconds * 1000);
    }
  }

  private async stopLeading(): Promise<void> {
    if (!this.leading) return;
    this.leading = false;
    this.metrics.leader.set(0);
    if (this.resyncTimer) clearInterval(this.resyncTimer);
    this.cache.stop();
    const workers = this.workers;
    this.workers = [];
    // Drain: active jobs finish (writes are guarded by isLeader, so a lost lease stops them).
    await Promise.all(workers.map((w) => w.close()));
    this.log.info('stopped leading');
  }

  /** Ingest: validate, store newest state, enqueue a (deduplicated) reconcile. */
  async ingest(job: Job): Promise<string> {
    const unreadable = unreadableReason(job);
    if (unreadable) return this.deadLetter(job, unreadable.reason, 'unreadable', unreadable.raw);
    const parsed = parseMessage(job.data);
    if (!parsed.ok) return this.deadLetter(job, parsed.reason, 'invalid');
    const msg = parsed.message;
    const src = msg.type === 'upsert' ? msg.record.source : msg.source;
    const rules = this.rules.get(src.name);
    if (!rules) return this.deadLetter(job, `source ${src.name} is not configured in the writer`, 'unknown-source');
    if (rules.kind !== src.kind) return this.deadLetter(job, `source ${src.name} is configured as ${rules.kind}, message says ${src.kind}`, 'kind-mismatch');
    let outcome = 'ok';
    switch (msg.type) {
      case 'upsert': {
        const r = msg.record;
        const key = serviceKey({ source: r.source.name, scope: r.scope, service: r.service });
        const res = await this.store.put(key, r.source.name, r.revision, r.lineage ?? '', Date.parse(r.observedAt), r);
        if (res === 'stale') this.metrics.staleRecords.inc({ source: r.source.name });
        else await this.reconcileNow(key);
        outcome = res;
        break;
      }
      case 'remove': {
        const key = serviceKey({ source: msg.source.name, scope: msg.scope, service: msg.service });
        const res = await this.store.put(key, msg.source.name, msg.revision, msg.lineage ?? '', Date.parse(msg.observedAt), undefined);
        if (res === 'stale') this.metrics.staleRecords.inc({ source: msg.source.name });
        else await this.reconcileNow(key);
        outcome = res;
        break;
      }
      case 'snapshot': {
        const stored = await this.store.putSnapshot(msg);
        if (stored && msg.complete) await this.queues.reconcile.add('source-gc', { source: msg.source.name }, { ...RECONCILE_OPTS, deduplication: { id: `gc:${msg.source.name}`, keepLastIfActive: true } });
        outcome = stored ? 'stored' : 'stale';
        break;
      }
      case 'sourceStatus':
        await this.store.putStatus(msg);
        break;
    }
    this.metrics.ingested.inc({ type: msg.type, outcome });
    return outcome;
  }

  /** Sends a job that can never succeed to `rb-dead-letter` with the reason; its own job then completes. */
  private async deadLetter(job: Job, reason: string, kind: string, raw?: string): Promise<string> {
    this.metrics.deadLetters.inc({ reason: kind });
    if (job.queueName === QUEUES.ingest) this.metrics.ingested.inc({ type: raw === undefined ? String((job.data as { type?: unknown })?.type ?? 'unknown').slice(0, 20) : 'unknown', outcome: 'dead-letter' });
    this.log.warn({ queue: job.queueName, jobId: job.id, reason }, 'message dead-lettered');
    const data = raw === undefined ? { data: job.data } : { raw };
    await this.queues.deadLetter.add('dead-letter', { reason, queue: job.queueName, jobId: job.id, jobName: job.name, at: new Date().toISOString(), ...data }, { removeOnComplete: false, removeOnFail: false });
    return 'dead-letter';
  }

  async enqueueKey(key: string, delayMs = 0): Promise<void> {
    if (delayMs > 0) {
      // A held key comes back later; a plain jobId keeps one such timer per key.
      await this.queues.reconcile.add('requeue', { key }, { jobId: `requeue:${Buffer.from(key).toString('base64url')}`, delay: delayMs, removeOnComplete: true, removeOnFail: true });
      return;
    }
    await this.queues.reconcile.add('service', { key }, { ...RECONCILE_OPTS, deduplication: { id: key, keepLastIfActive: true } });
  }

  async reconcileJob(job: Job): Promise<unknown> {
    if (!this.isLeader()) throw new NotLeaderError();
    const unreadable = unreadableReason(job);
    if (unreadable) return this.deadLetter(job, unreadable.reason, 'unreadable', unreadable.raw);
    if (job.name === 'requeue') return this.enqueueKey(job.data.key as string);
    if (job.name === 'source-gc') return this.sourceGc(job.data.source as string);
    const key = job.data.key as string;
    this.metrics.reconciles.inc({ path: 'queue' });
    return this.reconcileKey(key);
  }

  /**
   * From ingest: reconcile at once unless the key is busy here (then the queued job, which reads
   * the newest state when it runs, covers this record). Any failure hands the key to the queue,
   * whose retries and backoff are the one retry policy.
   */
  async reconcileNow(key: string): Promise<void> {
    if (!this.isLeader() || this.reconciling.busy(key)) return this.enqueueKey(key);
    this.metrics.reconciles.inc({ path: 'ingest' });
    try {
      await this.reconcileKey(key);
    } catch (err) {
      this.log.debug({ key, err: (err as Error).message }, 'reconcile from ingest failed; queued for retry');
      await this.enqueueKey(key);
    }
  }

  /** Reconciles a key after any reconcile of it already running in this process; a held key comes back later. */
  private async reconcileKey(key: string): Promise<ReconcileOutcome> {
    const outcome = await this.reconciling.run(key, () => this.reconciler.reconcile(key));
    // A held deletion, or a refused key whose object waits for its deletion, comes back later.
    if ((outcome.action === 'held' || outcome.action === 'refused') && outcome.retryInMs !== undefined) await this.enqueueKey(key, Math.max(1000, outcome.retryInMs));
    return outcome;
  }

  /** A complete snapshot arrived: keys it no longer lists become tombstones, unless that is too many. */
  async sourceGc(source: string): Promise<unknown> {
    const snapshot = await this.store.completeSnapshot(source);
    if (!snapshot) return { gc: 'no-snapshot' };
    const keys = await this.store.sourceKeys(source);
    const missing = keys.filter((k) => !snapshot.keys.has(k));
    const candidates: string[] = [];
    for (const k of missing) {
      const st = await this.store.get(k);
      if (st && !st.deleted && st.observedAt < snapshot.observedAt) candidates.push(k);
    }
    if (!candidates.length) return { gc: 0 };
    const total = Math.max(keys.length, 1);
    const budget = Math.max(this.cfg.deletion.maxDeletes, Math.floor((total * this.cfg.deletion.maxDeletePercent) / 100));
    if (candidates.length > budget) {
      const detail = `snapshot of ${source} would remove ${candidates.length} of ${total} services, over the budget of ${budget}; nothing removed`;
      this.metrics.guardTrips.inc({ source, guard: 'snapshot-budget' });
      this.reconciler.guardTrips.set(source, { guard: 'snapshot-budget', detail, at: new Date().toISOString() });
      this.log.warn({ source, candidates: candidates.length, budget }, detail);
      return { gc: 'guard-tripped' };
    }
    for (const k of candidates) if (await this.store.tombstone(k, source, snapshot.observedAt)) await this.enqueueKey(k);
    return { gc: candidates.length };
  }

  /**
   * Re-lists what we own (a fresh list behind the watch, in case it missed anything), re-checks
   * every known key against it (repairs drift) and finds orphans.
   */
  async fullResync(relist = false): Promise<void> {
    if (relist) {
      this.cache.stop();
      this.cache.start();
    }
    const deadline = Date.now() + 30_000;
    while (!this.cache.synced()) {
      if (Date.now() > deadline || !this.leading) throw new Error('the watch of ServiceEntries/WorkloadEntries is not synced; resync postponed');
      await new Promise((r) => setTimeout(r, 100));
    }
    const ownedKeys = this.cache.ownedServiceEntries();
    const count = this.cache.size();
    let keys = 0;
    let orphans = 0;
    const known = new Set<string>();
    for (const source of this.rules.keys()) {
      for (const key of await this.store.sourceKeys(source)) {
        known.add(key);
        keys += 1;
        await this.enqueueKey(key);
      }
    }
    for (const [key, id] of ownedKeys) {
      if (known.has(key)) continue;
      let source: string;
      try {
        source = parseServiceKey(key).source;
      } catch {
        continue;
      }
      if (!this.rules.has(source)) continue; // a source no longer configured: left alone, see docs
      const snapshot = await this.store.completeSnapshot(source);
      // Without a complete snapshot (e.g. Redis lost its data) an orphan is only reported.
      if (!snapshot || snapshot.keys.has(key)) continue;
      if (await this.store.tombstone(key, source, snapshot.observedAt)) {
        const [namespace, name] = id.split('/');
        await this.store.setObject(key, name, namespace);
        orphans += 1;
        await this.enqueueKey(key);
      }
    }
    const orphanWorkloadEntries = await this.deleteOrphanWorkloadEntries();
    this.lastResync = { at: new Date().toISOString(), objects: count, keys, orphans, orphanWorkloadEntries };
    this.log.info(this.lastResync, 'full resync');
  }

  /**
   * WorkloadEntries of ours whose ServiceEntry is gone (deleted by hand, or a crash between the two
   * deletes) and whose key will not bring it back: nothing of ours selects them, yet any selector
   * matching their labels still would. Deleted only when a fresh read confirms the ServiceEntry is
   * gone, and each with its uid, so only the object seen is removed.
   */
  private async deleteOrphanWorkloadEntries(): Promise<number> {
    let deleted = 0;
    for (const we of this.cache.orphanWorkloadEntries()) {
      if (!this.isLeader()) break;
      const state = we.key ? await this.store.get(we.key) : undefined;
      // A live key recreates its ServiceEntry on this resync and keeps its WorkloadEntries.
      if (state && !state.deleted && state.name === we.serviceEntry && !state.refused) continue;
      if (await this.kube.get('networking.istio.io/v1', 'ServiceEntry', we.namespace, we.serviceEntry as string)) continue;
      if (await this.kube.delete('networking.istio.io/v1', 'WorkloadEntry', we.namespace, we.name, { uid: we.uid })) {
        this.metrics.writes.inc({ kind: 'WorkloadEntry', action: 'delete' });
        deleted += 1;
      }
      this.cache.forget('WorkloadEntry', we.namespace, we.name);
      this.log.info({ object: `WorkloadEntry ${we.namespace}/${we.name}`, key: we.key, serviceEntry: we.serviceEntry }, 'orphan WorkloadEntry deleted: its ServiceEntry is gone');
    }
    return deleted;
  }

  async kubeHealth(): Promise<{ ok: boolean; error?: string }> {
    if (Date.now() - this.kubeReachable.at > 5000) {
      try {
        await this.kube.ping();
        this.kubeReachable = { ok: true, at: Date.now(), error: '' };
      } catch (err) {
        this.kubeReachable = { ok: false, at: Date.now(), error: (err as Error).message };
      }
    }
    return { ok: this.kubeReachable.ok, error: this.kubeReachable.error || undefined };
  }

  async sourcesStatus(): Promise<Record<string, unknown>> {
    const out: Record<string, unknown> = {};
    for (const [source, rules] of this.rules) {
      const st = await this.store.status(source);
      const snap = await this.store.completeSnapshot(source);
      const keys = await this.store.sourceKeys(source);
      out[source] = {
        kind: rules.kind,
        namespace: rules.namespace,
        reachable: st ? st.reachable && Date.now() - st.heardAt < this.cfg.deletion.sourceSilenceSeconds * 1000 : false,
        lastHeardAt: st ? new Date(st.heardAt).toISOString() : null,
        lastSuccessAt: st?.lastSuccessAt ?? null,
        lastError: st?.error ?? null,
        conditions: st?.conditions ?? {},
        lastCompleteSnapshot: snap ? { epoch: snap.epoch, observedAt: new Date(snap.observedAt).toISOString(), services: snap.keys.size } : null,
        services: keys.length,
        guard: this.reconciler.guardTrips.get(source) ?? null,
      };
    }
    return out;
  }

  async queueCounts(): Promise<Record<string, Record<string, number>>> {
    const out: Record<string, Record<string, number>> = {};
    for (const [name, q] of Object.entries(this.queues)) out[name] = await q.getJobCounts('waiting', 'active', 'delayed', 'failed', 'completed');
    return out;
  }

  get queueList(): Queue[] {
    return Object.values(this.queues);
  }
}
