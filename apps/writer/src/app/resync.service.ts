import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG } from '@registry-bridge/app-config';
import { parseServiceKey } from '@registry-bridge/contract';
import { KubeClient } from '@registry-bridge/kube';
import { SourceRules } from '@registry-bridge/translation';
import { WriterConfig } from '@registry-bridge/config/writer';
import type { Logger } from 'pino';
import { LeadershipService } from './leadership.service';
import { ObjectCache } from './object-cache.service';
import { ReconcileQueue } from './reconcile-queue.service';
import { StateStore } from './state-store.service';
import { KUBE, LOGGER, SOURCE_RULES } from './writer.tokens';
import { WriterMetrics } from './writer-metrics.service';

export interface ResyncReport {
  at: string;
  objects: number;
  keys: number;
  orphans: number;
  orphanWorkloadEntries: number;
  error?: string;
}

/**
 * The periodic full reconcile: re-lists what we own (a fresh list behind the watch, in case it
 * missed anything), re-checks every known key against it (repairs drift) and finds orphans.
 */
@Injectable()
export class ResyncService {
  private last?: ResyncReport;
  private timer?: NodeJS.Timeout;

  constructor(
    @Inject(APP_CONFIG) private readonly cfg: WriterConfig,
    @Inject(SOURCE_RULES) private readonly rules: Map<string, SourceRules>,
    @Inject(KUBE) private readonly kube: KubeClient,
    private readonly store: StateStore,
    private readonly cache: ObjectCache,
    private readonly queue: ReconcileQueue,
    private readonly leadership: LeadershipService,
    private readonly metrics: WriterMetrics,
    @Inject(LOGGER) private readonly log: Logger,
  ) {}

  lastResync(): ResyncReport | undefined {
    return this.last;
  }

  /** Resyncs every `reconcile.fullResyncSeconds` (0: never) until stopped. */
  schedule(): void {
    if (this.cfg.reconcile.fullResyncSeconds <= 0) return;
    this.timer = setInterval(() => void this.fullResync(true).catch((err) => this.log.error({ err: (err as Error).message }, 'resync failed')), this.cfg.reconcile.fullResyncSeconds * 1000);
  }

  unschedule(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  async fullResync(relist = false): Promise<void> {
    if (relist) {
      this.cache.stop();
      this.cache.start();
    }
    const deadline = Date.now() + 30_000;
    while (!this.cache.synced()) {
      if (Date.now() > deadline || !this.leadership.active()) throw new Error('the watch of ServiceEntries/WorkloadEntries is not synced; resync postponed');
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
        await this.queue.enqueueKey(key);
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
        await this.queue.enqueueKey(key);
      }
    }
    const orphanWorkloadEntries = await this.deleteOrphanWorkloadEntries();
    this.last = { at: new Date().toISOString(), objects: count, keys, orphans, orphanWorkloadEntries };
    this.log.info(this.last, 'full resync');
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
      if (!this.leadership.isLeader()) break;
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
}
