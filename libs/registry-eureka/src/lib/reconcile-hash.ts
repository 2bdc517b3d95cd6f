import type { EurekaInstanceJson } from './eureka-payload';

/**
 * Eureka's `apps__hashcode` (Applications.getReconcileHashCode): the count of instances per
 * status over the whole registry, statuses in sorted order, each as `STATUS_count_`,
 * e.g. `DOWN_1_UP_3_`. An empty registry hashes to the empty string.
 */
export function reconcileHashCode(apps: Iterable<Iterable<EurekaInstanceJson>>): string {
  const counts = new Map<string, number>();
  for (const instances of apps) {
    for (const instance of instances) {
      const status = typeof instance.status === 'string' && instance.status ? instance.status : 'UNKNOWN';
      counts.set(status, (counts.get(status) ?? 0) + 1);
    }
  }
  return [...counts.keys()]
    .sort()
    .map((status) => `${status}_${counts.get(status)}_`)
    .join('');
}
