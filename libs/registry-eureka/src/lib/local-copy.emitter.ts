import type { SourceRef } from '@registry-bridge/contract';
import type { SourceEmitter } from '@registry-bridge/source-kit';
import type { DropReason } from './eureka-normalizer';
import type { LocalRegistry } from './local-registry';
import type { PreparedAppCache } from './prepared-app.cache';

/** Counts of one emission of the local copy. */
export interface EmitCounts {
  upserts: number;
  removes: number;
  unchanged: number;
  snapshot: boolean;
  /** The registry read empty after having services; removals and the snapshot were held back. */
  emptyHeld?: boolean;
}

/** The observation points of an emission (a subset of the syncer's hooks). */
export interface EmitHooks {
  dropped?(reason: DropReason, count: number): void;
  emitted?(type: 'upsert' | 'remove' | 'snapshot', count: number): void;
  unchanged?(count: number): void;
}

export interface EmitLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

/**
 * Sends the local copy of a Eureka cluster through the source's emitter: an upsert per app whose
 * record changed, a removal per service no longer listed (unless an empty read is held back), and,
 * after a full fetch, the complete snapshot.
 */
export class LocalCopyEmitter {
  constructor(
    private readonly ref: SourceRef,
    private readonly local: LocalRegistry,
    private readonly prepared: PreparedAppCache,
    private readonly emitter: SourceEmitter,
    private readonly hooks: EmitHooks,
    private readonly clock: () => number,
    private readonly logger?: EmitLogger,
  ) {}

  async emit(complete: boolean): Promise<EmitCounts> {
    const observedAt = new Date(this.clock()).toISOString();
    let upserts = 0;
    let removes = 0;
    let unchanged = 0;
    const present = new Set<string>();
    const services: { service: string }[] = [];
    for (const appName of this.local.appNames()) {
      const prepared = this.prepared.get(appName);
      if (!prepared.included) continue;
      const { app, drops } = prepared;
      if (!app) {
        this.countDrops(drops);
        continue;
      }
      const { key, contentHash: hash } = prepared;
      // Two apps differing only in case would be one service; the first (sorted) wins.
      if (present.has(key)) continue;
      present.add(key);
      services.push({ service: app.service });
      // Compared on every round, not only for touched apps: an upsert that failed last round
      // (or a case twin that just took over a key) is sent again.
      const sent = await this.emitter.upsert(
        { source: this.ref, service: app.service, ports: app.ports, endpoints: app.endpoints, metadata: app.metadata, observedAt },
        app.registryRevision,
        hash,
      );
      if (sent === undefined) {
        unchanged++;
        continue;
      }
      this.countDrops(drops);
      upserts++;
    }
    if (this.emitter.holdEmpty(services.length)) {
      this.logger?.warn({ source: this.ref.name, services: this.emitter.sentKeys().length }, 'registry reads empty; holding removals (server restart?)');
      return { upserts, removes, unchanged, snapshot: false, emptyHeld: true };
    }
    for (const key of this.emitter.sentKeys()) {
      if (present.has(key)) continue;
      // A removal outranks the last upsert and the clock (Eureka's revisions are timestamps).
      if (await this.emitter.remove({ service: decodeURIComponent(key.split('/')[2]) }, this.clock())) removes++;
    }
    if (upserts) this.hooks.emitted?.('upsert', upserts);
    if (removes) this.hooks.emitted?.('remove', removes);
    if (unchanged) this.hooks.unchanged?.(unchanged);
    let snapshot = false;
    if (complete) {
      await this.emitter.snapshot(services, true);
      this.hooks.emitted?.('snapshot', 1);
      snapshot = true;
    }
    if (upserts || removes) this.logger?.info({ source: this.ref.name, upserts, removes, unchanged }, 'eureka changes emitted');
    return { upserts, removes, unchanged, snapshot };
  }

  private countDrops(drops: Partial<Record<DropReason, number>>): void {
    for (const [reason, n] of Object.entries(drops)) if (n) this.hooks.dropped?.(reason as DropReason, n);
  }
}
