import { SourceEmitter, SourceEmitterOptions, SourceHealth } from '@registry-bridge/source-kit';
import { ConsulResponse } from './consul-http.client';
import { ConsulWatcherMetrics, ConsulWatchLog } from './consul-watch.types';

/**
 * The emitter of a Consul source: a change always carries a revision above the last one sent
 * (Consul's ModifyIndex, or one more when a re-read returns the same index).
 */
export function consulEmitter(source: string, options: Omit<SourceEmitterOptions, 'revision'>): SourceEmitter {
  return new SourceEmitter({ name: source, kind: 'consul' }, { ...options, revision: (index, last) => Math.max(index, (last ?? 0) + 1) });
}

/** Consul's own conditions in a source's health (conditions of source-kit's SourceHealth). */
export interface ConsulConditions {
  /** The token may not read everything: snapshots are sent as incomplete. */
  aclFiltered: boolean;
  /** Services whose instances Consul hid from the token (node:read missing): their records are held. */
  aclHiddenServices: number;
  services: number;
  blockingWatches: number;
}

export const consulConditions = (status: SourceHealth): ConsulConditions => status.conditions as unknown as ConsulConditions;

/**
 * `/health/ready` for one source (issue 15.3). A filtered catalog is ready with a warning while
 * the token can read something (a narrower token is a choice; its snapshots are incomplete and
 * nothing is deleted), and not ready when it can read no service at all: then the collector
 * syncs nothing, which is a misconfiguration a rollout should stop on.
 */
export function sourceReadiness(status: SourceHealth, readRecently: boolean): { ready: boolean; detail?: string } {
  if (!readRecently) return { ready: false, detail: status.error ?? 'no successful read yet' };
  const c = consulConditions(status);
  if (c.aclFiltered && c.services === 0) return { ready: false, detail: status.error };
  const warnings = [
    c.aclFiltered ? status.error : undefined,
    c.aclHiddenServices ? `Consul hides the instances of ${c.aclHiddenServices} service(s) from the token (node:read missing): their records are held` : undefined,
  ].filter((w): w is string => !!w);
  return warnings.length ? { ready: true, detail: warnings.join('; ') } : { ready: true };
}

/**
 * Whether an answer may lack what the token cannot read. Consul sets the filtered header only for
 * real tokens: anonymous reads under default-deny come back silently empty, so without a token
 * such an answer proves nothing.
 */
export const hiddenByAcl = (r: Pick<ConsulResponse<unknown>, 'filteredByAcl' | 'defaultAclPolicy'>, hasToken: boolean): boolean =>
  r.filteredByAcl || (!hasToken && r.defaultAclPolicy === 'deny');

/**
 * The health of one watched Consul source, and its status sent to the writer: reachability (the
 * catalog read decides it), ACL filtering of the catalog and of instances, each said once per
 * change as a warning naming the missing permission (issue 15.3).
 */
export class ConsulSourceStatus {
  private health: { reachable: boolean; lastSuccessAt?: number; error?: string } & ConsulConditions = {
    reachable: false,
    aclFiltered: false,
    aclHiddenServices: 0,
    services: 0,
    blockingWatches: 0,
  };
  /** Services whose last health read Consul filtered by ACLs. */
  private readonly aclHidden = new Set<string>();
  private recoveredCtl = new AbortController();

  constructor(
    private readonly source: string,
    private readonly hasToken: boolean,
    private readonly emitter: SourceEmitter,
    private readonly log: ConsulWatchLog,
    private readonly metrics: Pick<ConsulWatcherMetrics, 'aclFiltered'>,
    private readonly now: () => number,
  ) {}

  get status(): SourceHealth {
    const { reachable, lastSuccessAt, error, ...conditions } = this.health;
    return { reachable, ...(lastSuccessAt !== undefined && { lastSuccessAt }), ...(error && { error }), conditions: { ...conditions } };
  }

  /** Aborted (and replaced) when Consul answers again: cuts the backoff of every other loop short. */
  get recovered(): AbortSignal {
    return this.recoveredCtl.signal;
  }

  counts(services: number, blockingWatches: number): void {
    this.health.services = services;
    this.health.blockingWatches = blockingWatches;
  }

  /** The catalog answered, filtered by ACLs or not, listing `visible` services. */
  catalogRead(filtered: boolean, visible: number): void {
    if (filtered !== this.health.aclFiltered || !this.health.lastSuccessAt) this.catalogFilterChanged(filtered, visible);
    const was = this.health.reachable;
    this.health = {
      ...this.health,
      reachable: true,
      lastSuccessAt: this.now(),
      aclFiltered: filtered,
      error: filtered
        ? this.hasToken
          ? 'Consul filtered the catalog by ACLs: the token lacks service:read on some services, snapshots are sent incomplete'
          : 'Consul ACL default policy is deny and no token is configured: the catalog cannot be read in full, snapshots are sent incomplete'
        : undefined,
    };
    if (!was) {
      this.log.info({ source: this.source }, 'Consul reachable');
      // the other loops re-read at once instead of sitting out their backoff
      this.recoveredCtl.abort();
      this.recoveredCtl = new AbortController();
    }
    this.sendStatus();
  }

  /** The catalog read failed: Consul is unreachable, everything is held as it was. */
  unreachable(err: unknown): void {
    const was = this.health.reachable;
    this.health = { ...this.health, reachable: false, error: (err as Error)?.message?.slice(0, 2000) ?? 'unknown error' };
    if (was) this.log.error({ source: this.source, err: this.health.error }, 'Consul unreachable: holding everything as it was');
    this.sendStatus();
  }

  /** Consul hid (or no longer hides) a service's instances from the token. */
  aclHiddenService(name: string, hidden: boolean): void {
    if (hidden === this.aclHidden.has(name)) return;
    if (hidden) this.aclHidden.add(name);
    else this.aclHidden.delete(name);
    this.health = { ...this.health, aclHiddenServices: this.aclHidden.size };
    this.metrics.aclFiltered('health', this.aclHidden.size);
  }

  private catalogFilterChanged(filtered: boolean, visible: number): void {
    this.metrics.aclFiltered('catalog', filtered ? 1 : 0);
    if (!filtered) {
      if (this.health.aclFiltered) this.log.info({ source: this.source }, 'Consul no longer filters the catalog by ACLs: snapshots are complete again');
      return;
    }
    const what = this.hasToken
      ? `the ACL token lacks service:read on ${visible ? 'some' : 'every'} service (Consul answered /v1/catalog/services with X-Consul-Results-Filtered-By-ACLs; ${visible} visible): grant service:read on all services (service_prefix "" { policy = "read" }) and node:read (node_prefix "" { policy = "read" }), and narrow what is synced with filters`
      : `no ACL token is configured and Consul's ACL default policy is deny (${visible} services visible): configure a token with service:read and node:read`;
    this.log.warn({ source: this.source, visible }, `Consul hides services from this collector: ${what}; until then snapshots are sent incomplete and the writer deletes nothing for this source`);
  }

  /** On every reachability transition and after each successful catalog read; the status port sends changes at once. */
  private sendStatus(): void {
    const { reachable, error, conditions } = this.status;
    void this.emitter.status({ reachable, ...(error && { error }), conditions }).catch((err) => this.log.warn({ source: this.source, err: (err as Error).message }, 'source status not sent'));
  }
}
