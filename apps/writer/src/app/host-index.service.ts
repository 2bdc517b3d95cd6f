import { Inject, Injectable } from '@nestjs/common';
import { StateStore } from './state-store.service';

/** Where host collisions are checked: every namespace, or (cluster-wide read forbidden) only ours, and why. */
export interface CollisionScope {
  scope: 'cluster' | 'namespaces' | 'starting';
  error?: string;
}

/** What the index needs of the durable state: our claims and the state of a claim's holder. */
export type HostClaimStore = Pick<StateStore, 'hostHolder' | 'setHostHolder' | 'releaseHost' | 'get'>;

/**
 * Who uses which host, in one place (Istio misbehaves on duplicate hosts): ServiceEntries that are
 * not ours, as the watches see them (in memory), and the claims of our own keys (in Redis, so that
 * two keys never write one host even across restarts and replicas).
 */
@Injectable()
export class HostIndex {
  /** host -> namespace/name of ServiceEntries we do not own that use it. */
  private readonly byHost = new Map<string, Set<string>>();
  private readonly hostsOf = new Map<string, string[]>();
  private scope: CollisionScope = { scope: 'starting' };

  constructor(@Inject(StateStore) private readonly claims: HostClaimStore) {}

  /** A ServiceEntry we do not own (`namespace/name`) uses these hosts (replacing what it used before). */
  setForeign(id: string, hosts: string[]): void {
    this.dropForeign(id);
    this.hostsOf.set(id, hosts);
    for (const h of hosts) {
      let set = this.byHost.get(h);
      if (!set) this.byHost.set(h, (set = new Set()));
      set.add(id);
    }
  }

  dropForeign(id: string): void {
    const hosts = this.hostsOf.get(id);
    if (!hosts) return;
    this.hostsOf.delete(id);
    for (const h of hosts) {
      const set = this.byHost.get(h);
      set?.delete(id);
      if (set && set.size === 0) this.byHost.delete(h);
    }
  }

  foreignIds(): string[] {
    return [...this.hostsOf.keys()];
  }

  /** namespace/name of a ServiceEntry we do not own that uses `host`, if any. */
  foreignHolder(host: string, exceptId?: string): string | undefined {
    for (const id of this.byHost.get(host) ?? []) if (id !== exceptId) return id;
    return undefined;
  }

  collisionScope(): CollisionScope {
    return this.scope;
  }

  setCollisionScope(scope: CollisionScope): void {
    this.scope = scope;
  }

  /** Claims a host for a key; returns the key already holding it when it is someone else's. */
  async claim(host: string, key: string): Promise<string | undefined> {
    if (await this.claims.setHostHolder(host, key, true)) return undefined;
    const holder = await this.claims.hostHolder(host);
    if (holder === key) return undefined;
    // A holder whose state is gone or deleted no longer needs the host.
    const holderState = holder ? await this.claims.get(holder) : undefined;
    if (!holder || !holderState || (holderState.deleted && !holderState.appliedHash)) {
      await this.claims.setHostHolder(host, key, false);
      return undefined;
    }
    return holder;
  }

  release(host: string, key: string): Promise<void> {
    return this.claims.releaseHost(host, key);
  }
}
