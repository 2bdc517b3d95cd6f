import { KubeError } from '@registry-bridge/kube';
import { ANNOTATIONS, specHash } from '@registry-bridge/translation';
import type { CachedObject } from './object-cache';
import type { SnapshotState, SourceState } from './state-store';

/** What the deletion rules know about one candidate deletion; gathered first, judged purely. */
export interface DeletionFacts {
  key: string;
  source: string;
  now: number;
  status?: SourceState;
  silenceMs: number;
  snapshot?: SnapshotState;
  /**
   * 'removed': the registry no longer has the service (a later complete snapshot that still lists
   * it holds the deletion). 'refused': the registry still has it but it may no longer be written,
   * so the snapshot listing it is expected.
   */
  cause: 'removed' | 'refused';
  /** observedAt of the key's state (a snapshot newer than that still listing it holds a removal). */
  stateObservedAt: number;
  /** Since when the key has been removed or refused (the grace period counts from here). */
  since: number;
  graceMs: number;
  /** Services of the source (the larger of the snapshot and the known keys) for the budget. */
  total: number;
  maxDeletes: number;
  maxDeletePercent: number;
  windowSeconds: number;
  deletionsInWindow: number;
}

export interface DeletionHold {
  guard: 'source-unreachable' | 'no-complete-snapshot' | 'in-snapshot' | 'grace-period' | 'deletion-budget';
  detail: string;
  retryInMs: number;
}

/** Holds that are the normal path (waiting), not a guard trip worth a warning and a metric. */
export const ROUTINE_HOLDS: ReadonlySet<DeletionHold['guard']> = new Set(['grace-period', 'in-snapshot']);

export function deletionBudget(total: number, maxDeletes: number, maxDeletePercent: number): number {
  return Math.max(maxDeletes, Math.floor((Math.max(total, 0) * maxDeletePercent) / 100));
}

/**
 * DESIGN section 4 as one pure function: no deletion for an unreachable or silent source, one
 * without a complete snapshot, before the grace period, or beyond the deletion budget. Returns
 * why a deletion waits, or undefined when it may go ahead.
 */
export function deletionHold(f: DeletionFacts): DeletionHold | undefined {
  if (!f.status || !f.status.reachable || f.now - f.status.heardAt > f.silenceMs) {
    return { guard: 'source-unreachable', detail: `source ${f.source} is unreachable or silent`, retryInMs: 10_000 };
  }
  if (!f.snapshot) return { guard: 'no-complete-snapshot', detail: `source ${f.source} has not sent a complete snapshot`, retryInMs: 10_000 };
  if (f.cause === 'removed' && f.snapshot.keys.has(f.key) && f.snapshot.observedAt >= f.stateObservedAt) {
    return { guard: 'in-snapshot', detail: `the last complete snapshot of ${f.source} still lists ${f.key}`, retryInMs: 10_000 };
  }
  if (f.now - f.since < f.graceMs) return { guard: 'grace-period', detail: 'waiting for the grace period', retryInMs: f.since + f.graceMs - f.now };
  const budget = deletionBudget(f.total, f.maxDeletes, f.maxDeletePercent);
  if (f.deletionsInWindow >= budget) return budgetHold(f.source, budget, f.windowSeconds);
  return undefined;
}

/** The hold of a used-up deletion budget (also when the atomic take right before a delete finds it used up). */
export function budgetHold(source: string, budget: number, windowSeconds: number): DeletionHold {
  return { guard: 'deletion-budget', detail: `deletion budget of ${budget} per ${windowSeconds}s for ${source} is used up`, retryInMs: Math.min(windowSeconds * 1000, 30_000) };
}

/** Annotation on an object emptied because its key is refused: the reason, for `kubectl get -o yaml`. */
export const REFUSED_ANNOTATION = 'registry-bridge.io/refused';

/** What the emptying needs of the live object (the watch cache's view). */
export type LiveServiceEntry = Pick<CachedObject, 'namespace' | 'name' | 'uid' | 'specJson' | 'labels' | 'annotations'>;

/**
 * The ServiceEntry of a refused key, emptied: no endpoints (inline) and, with its WorkloadEntries
 * deleted, none selected; resolution STATIC so that Envoy never falls back to resolving the host
 * itself. Hosts, ports and selector stay, so routes that name the host keep a target with no
 * traffic. Only our own annotations are carried; the hash covers the result like any object we write.
 */
export function emptiedServiceEntry(live: LiveServiceEntry, reason: string) {
  const spec = { ...(JSON.parse(live.specJson) as Record<string, unknown>) };
  delete spec['endpoints'];
  spec['resolution'] = 'STATIC';
  const annotations: Record<string, string> = {};
  for (const [k, v] of Object.entries(live.annotations)) if (k.startsWith('registry-bridge.io/')) annotations[k] = v;
  annotations[REFUSED_ANNOTATION] = reason.slice(0, 1000);
  const obj = {
    apiVersion: 'networking.istio.io/v1',
    kind: 'ServiceEntry',
    metadata: { name: live.name, namespace: live.namespace, labels: { ...live.labels }, annotations },
    spec,
  };
  obj.metadata.annotations[ANNOTATIONS.specHash] = specHash(obj);
  return obj;
}

/**
 * A rejection by the API server that the same request can never get past: malformed or invalid
 * (400, 422), too large for the API server (413) or for etcd (reported as a 500 "request is too
 * large" by some API server versions). Retrying it only burns the rate limit.
 */
export function isPermanentRejection(err: unknown): err is KubeError {
  if (!(err instanceof KubeError)) return false;
  if (err.status === 400 || err.status === 413 || err.status === 422) return true;
  return err.status === 500 && /request is too large/i.test(err.message);
}
