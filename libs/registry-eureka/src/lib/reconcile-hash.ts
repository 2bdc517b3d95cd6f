import type { EurekaInstanceJson } from './eureka-payload';

/** The status an instance counts under in the reconcile hash (missing or empty counts as UNKNOWN). */
export function reconcileStatus(instance: EurekaInstanceJson): string {
  return typeof instance.status === 'string' && instance.status ? instance.status : 'UNKNOWN';
}

/**
 * Per-status instance counts kept up to date as instances come and go, so checking a delta
 * against `apps__hashcode` costs the size of the delta, not a walk over the whole registry.
 */
export class ReconcileCounts {
  private readonly counts = new Map<string, number>();

  add(instance: EurekaInstanceJson): void {
    const status = reconcileStatus(instance);
    this.counts.set(status, (this.counts.get(status) ?? 0) + 1);
  }

  remove(instance: EurekaInstanceJson): void {
    const status = reconcileStatus(instance);
    const n = (this.counts.get(status) ?? 0) - 1;
    if (n > 0) this.counts.set(status, n);
    else this.counts.delete(status);
  }

  clear(): void {
    this.counts.clear();
  }

  hashCode(): string {
    return [...this.counts.keys()]
      .sort()
      .map((status) => `${status}_${this.counts.get(status)}_`)
      .join('');
  }
}

/**
 * Eureka's `apps__hashcode` (Applications.getReconcileHashCode): the count of instances per
 * status over the whole registry, statuses in sorted order, each as `STATUS_count_`,
 * e.g. `DOWN_1_UP_3_`. An empty registry hashes to the empty string.
 */
export function reconcileHashCode(apps: Iterable<Iterable<EurekaInstanceJson>>): string {
  const counts = new ReconcileCounts();
  for (const instances of apps) for (const instance of instances) counts.add(instance);
  return counts.hashCode();
}
