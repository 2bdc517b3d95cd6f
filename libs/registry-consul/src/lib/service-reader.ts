import { SourceRef } from '@registry-bridge/contract';
import { SourceEmitter } from '@registry-bridge/source-kit';
import { nextIndex } from './blocking-index';
import { ConsulRequestError } from './consul-http.client';
import { ConsulHealthEntry, DropReason, maxModifyIndex, normalizeService } from './consul-normalize';
import { ConsulSourceConfig } from './consul-source.schema';
import { hiddenByAcl } from './consul-source-health';
import { ConsulOwnership, ConsulWatchContext } from './consul-watch.types';
import { ServiceFilter } from './service-filter';
import { ServiceState } from './service-table';

/** What a service read needs of the rest of the source's watch. */
export interface ServiceReaderParts {
  source: SourceRef;
  scope?: string;
  config: Pick<ConsulSourceConfig, 'datacenter' | 'normalize' | 'filters'>;
  hasToken: boolean;
  filter: ServiceFilter;
  emitter: SourceEmitter;
  ownership: ConsulOwnership;
  /** Set when the watch stops: nothing is sent after. */
  stopped: AbortSignal;
  lineage(): string | undefined;
  centralProtocol(service: string): string | undefined;
  /** Consul hid (or no longer hides) the service's instances from the token. */
  aclHidden(name: string, hidden: boolean): void;
  /** A service was read (a one-shot read waits on it). */
  progress(): void;
  /** A sent service changed again: it is hot, the blocking pool may want it. */
  changed(st: ServiceState): void;
}

/**
 * One read of `/v1/health/service/<name>` (blocking on the service's index in the pool, short
 * otherwise), normalized and sent through the emitter when its content changed.
 */
export class ServiceReader {
  constructor(
    private readonly ctx: ConsulWatchContext,
    private readonly p: ServiceReaderParts,
  ) {}

  async read(st: ServiceState, pooled: boolean, signal: AbortSignal, failures = 0): Promise<void> {
    const { client, metrics } = this.ctx;
    const expr = this.p.config.filters.healthExpression;
    const blocking = pooled && failures === 0 && st.index > 0;
    metrics.request('service', blocking ? 'blocking' : 'poll');
    const r = await client.get<ConsulHealthEntry[]>(`/v1/health/service/${encodeURIComponent(st.name)}`, {
      index: blocking ? st.index : 0,
      waitMs: this.ctx.options.waitMs,
      signal,
      query: expr ? { filter: expr } : undefined,
      ...(failures > 0 && { timeoutMs: this.ctx.recoveryTimeout(failures) }),
    });
    if (hiddenByAcl(r, this.p.hasToken)) {
      // Entries hidden by ACLs would read as "instances gone": refuse the answer instead.
      metrics.dropped('acl_filtered', 1);
      this.p.aclHidden(st.name, true);
      throw new ConsulRequestError(
        'acl',
        `Consul hid instances of ${st.name} from this token (X-Consul-Results-Filtered-By-ACLs on /v1/health/service): it needs node:read on their nodes (e.g. node_prefix "" { policy = "read" }) besides service:read on ${st.name}; its last record is held`,
      );
    }
    this.p.aclHidden(st.name, false);
    const step = nextIndex(st.index, r.index);
    if (step.verdict === 'reset') metrics.indexReset('service');
    st.index = step.next;
    st.lastError = undefined;
    if (step.verdict === 'unchanged' && st.sent) return;
    metrics.changeSeen('service');
    // Consul has a service only while it has an instance: no entry at all means the service is
    // gone (or the agent was wiped), which is the catalog's to say, through a removal and the
    // writer's deletion rules. Sent as an upsert with no instance it would empty the ServiceEntry
    // around the budget, and a wiped agent would empty every one of them.
    if (Array.isArray(r.body) && r.body.length === 0 && st.sent) return;
    const receivedAt = this.ctx.now();
    try {
      await this.emit(st, Array.isArray(r.body) ? r.body : [], Math.max(r.index ?? 0, maxModifyIndex(r.body ?? [])), receivedAt);
    } finally {
      st.read = true;
      this.p.progress();
    }
  }

  private async emit(st: ServiceState, entries: ConsulHealthEntry[], observedIndex: number, receivedAt: number): Promise<void> {
    const { metrics, now } = this.ctx;
    const cfg = this.p.config;
    const res = normalizeService(entries, {
      source: this.p.source,
      service: st.name,
      scope: this.p.scope,
      datacenter: cfg.datacenter,
      revision: 0,
      lineage: this.p.lineage(),
      observedAt: new Date(now()).toISOString(),
      options: cfg.normalize,
      instanceTagsPass: (t) => this.p.filter.instanceTagsPass(t),
      includeConnect: cfg.filters.includeConnect,
      centralProtocol: this.p.centralProtocol(st.name),
    });
    for (const [reason, n] of Object.entries(res.drops)) metrics.dropped(reason as DropReason, n ?? 0);
    st.nodes = new Set(entries.map((e) => e.Node?.Node).filter((n): n is string => !!n));
    if (res.onlyProxies) {
      if (!st.excluded) this.ctx.log.info({ source: this.ctx.source, service: st.name }, 'service has only Connect proxy/gateway instances: not synced');
      st.excluded = true;
      return;
    }
    st.excluded = false;
    if (!this.p.ownership.owns(st.key) || this.p.stopped.aborted) return;
    // Later changes always carry a higher revision, even when a per-service index went backwards.
    const revision = await this.p.emitter.upsert(res.record, observedIndex);
    if (revision === undefined) {
      metrics.emitted('unchanged');
      return;
    }
    metrics.emitted('upsert');
    metrics.changeLatency((now() - receivedAt) / 1000);
    const first = !st.sent;
    st.sent = true;
    if (!first) {
      st.lastChangeAt = now();
      this.p.changed(st);
    }
  }
}
