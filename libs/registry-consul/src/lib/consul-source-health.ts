import { SourceEmitter, SourceEmitterOptions, SourceHealth } from '@registry-bridge/source-kit';

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
