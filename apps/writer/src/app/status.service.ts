import { Inject, Injectable } from '@nestjs/common';
import { KubeClient } from '@registry-bridge/kube';
import { MetricsService } from '@registry-bridge/observability';
import { SourceRules } from '@registry-bridge/translation';
import { DeletionPolicy } from './deletion.policy';
import { ObjectCache } from './object-cache.service';
import { StateStore } from './state-store.service';
import { StatusBoard } from './status-board.service';
import { WriterConnections } from './writer-connections.service';
import { KUBE, SOURCE_RULES } from './writer.tokens';

export interface SourceStatusView {
  kind: string;
  namespace: string;
  reachable: boolean;
  lastHeardAt: string | null;
  lastSuccessAt: string | null;
  lastError: string | null;
  conditions: Record<string, unknown>;
  lastCompleteSnapshot: { epoch: number; observedAt: string; services: number } | null;
  services: number;
  guard: { guard: string; detail: string; at: string } | null;
}

/** What the writer reports about itself: each source as /status shows it, the API server's reachability, and the gauges of both. */
@Injectable()
export class StatusService {
  private kubeReachable = { ok: false, at: 0, error: '' };

  constructor(
    @Inject(SOURCE_RULES) private readonly rules: Map<string, SourceRules>,
    @Inject(KUBE) private readonly kube: KubeClient,
    private readonly store: StateStore,
    private readonly policy: DeletionPolicy,
    private readonly board: StatusBoard,
    private readonly cache: ObjectCache,
    private readonly connections: WriterConnections,
    metrics: MetricsService,
  ) {
    metrics.gauge('registry_bridge_queue_depth', 'Jobs per queue and state', ['queue', 'state'], async (g) => {
      for (const [queue, counts] of Object.entries(await connections.counts('waiting', 'active', 'delayed', 'failed', 'prioritized'))) {
        for (const [state, n] of Object.entries(counts)) g.set({ queue, state }, n);
      }
    });
    metrics.gauge('registry_bridge_source_reachable', '1 when the source reported itself reachable and was heard recently', ['source'], async (g) => {
      for (const s of rules.keys()) g.set({ source: s }, policy.reachable(await store.status(s), Date.now()) ? 1 : 0);
    });
    metrics.gauge('registry_bridge_source_staleness_seconds', 'Seconds since the source was last heard from', ['source'], async (g) => {
      for (const s of rules.keys()) {
        const st = await store.status(s);
        if (st) g.set({ source: s }, (Date.now() - st.heardAt) / 1000);
      }
    });
    metrics.gauge('registry_bridge_tcp_entries_without_address', 'Owned ServiceEntries with an opaque TCP port and no address yet (neither spec.addresses nor istiod-allocated status.addresses): they share 0.0.0.0:<port> in sidecars', [], (g) => {
      g.set(cache.ownedWithoutAddress().length);
    });
    metrics.gauge('registry_bridge_source_snapshot_complete', '1 once the source delivered a complete snapshot', ['source'], async (g) => {
      for (const s of rules.keys()) g.set({ source: s }, (await store.completeSnapshot(s)) ? 1 : 0);
    });
  }

  /** The API server answers (cached for 5 s: readiness probes must not load it). */
  async kubeHealth(): Promise<{ ok: boolean; server: string; error?: string }> {
    if (Date.now() - this.kubeReachable.at > 5000) {
      try {
        await this.kube.ping();
        this.kubeReachable = { ok: true, at: Date.now(), error: '' };
      } catch (err) {
        this.kubeReachable = { ok: false, at: Date.now(), error: (err as Error).message };
      }
    }
    return { ok: this.kubeReachable.ok, server: this.kube.server, error: this.kubeReachable.error || undefined };
  }

  async sources(): Promise<Record<string, SourceStatusView>> {
    const out: Record<string, SourceStatusView> = {};
    const now = Date.now();
    for (const [source, rules] of this.rules) {
      const st = await this.store.status(source);
      const snap = await this.store.completeSnapshot(source);
      const keys = await this.store.sourceKeys(source);
      out[source] = {
        kind: rules.kind,
        namespace: rules.namespace,
        reachable: this.policy.reachable(st, now),
        lastHeardAt: st ? new Date(st.heardAt).toISOString() : null,
        lastSuccessAt: st?.lastSuccessAt ?? null,
        lastError: st?.error ?? null,
        conditions: st?.conditions ?? {},
        lastCompleteSnapshot: snap ? { epoch: snap.epoch, observedAt: new Date(snap.observedAt).toISOString(), services: snap.keys.size } : null,
        services: keys.length,
        guard: this.board.lastTrip(source) ?? null,
      };
    }
    return out;
  }

  /** Opaque TCP ServiceEntries with no address yet (the first 100 named; the metric has the count). */
  tcpWithoutAddress(): { count: number; entries: string[] } {
    const all = this.cache.ownedWithoutAddress();
    return { count: all.length, entries: all.slice(0, 100) };
  }

  queues(): Promise<Record<string, Record<string, number>>> {
    return this.connections.counts('waiting', 'active', 'delayed', 'failed', 'completed');
  }
}
