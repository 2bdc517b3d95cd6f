import { ApplicationsPayload, EurekaInstanceJson, instanceKey } from './eureka-payload';
import { ReconcileCounts } from './reconcile-hash';

/**
 * Fields of an instance that say nothing about the service: the delta's action, and the lease
 * (renewal timestamps move on every heartbeat). The normalizer reads neither.
 */
const NOT_CONTENT = new Set(['actionType', 'leaseInfo']);

/** Equal JSON values (as JSON.parse gives them), key order aside. */
function sameJson(a: unknown, b: unknown, skip?: ReadonlySet<string>): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a).filter((k) => !skip?.has(k));
  const kb = Object.keys(b).filter((k) => !skip?.has(k));
  if (ka.length !== kb.length) return false;
  const bo = b as Record<string, unknown>;
  return ka.every((k) => Object.hasOwn(bo, k) && sameJson((a as Record<string, unknown>)[k], bo[k]));
}

/** The same instance as far as a record can tell: only the action or the lease differ. */
export function sameInstanceContent(a: EurekaInstanceJson, b: EurekaInstanceJson): boolean {
  return sameJson(a, b, NOT_CONTENT);
}

export interface DeltaResult {
  /**
   * Upper-case names of the applications whose instances the delta changed. An instance the
   * delta repeats unchanged does not count: Eureka's delta lists every change of the last three
   * minutes (retentionTimeInMSInDeltaQueue), so each poll sees the same ones again.
   */
  touched: Set<string>;
  /** Delta entries that could not be applied (no id, unknown action). */
  skipped: number;
}

/**
 * The collector's copy of one Eureka cluster's registry, kept the way Eureka's own client keeps it:
 * replaced by a full fetch, patched by deltas (ADDED/MODIFIED replace by instance id, DELETED
 * removes), then verified against the server's `apps__hashcode`.
 *
 * The status counts behind the hash and the sorted app names are kept as it changes, so a poll
 * whose delta touched a few apps costs those apps, not the whole registry.
 */
export class LocalRegistry {
  private apps = new Map<string, Map<string, EurekaInstanceJson>>();
  private readonly counts = new ReconcileCounts();
  private sortedNames?: string[];

  replace(payload: ApplicationsPayload): void {
    const next = new Map<string, Map<string, EurekaInstanceJson>>();
    for (const [name, instances] of payload.apps) {
      const byId = new Map<string, EurekaInstanceJson>();
      for (const instance of instances) {
        const id = instanceKey(instance);
        // Instances without any identity are kept under a synthetic key so the hash still counts them.
        byId.set(id ?? `#${byId.size}`, instance);
      }
      if (byId.size > 0) next.set(name, byId);
    }
    this.apps = next;
    this.counts.clear();
    for (const byId of next.values()) for (const instance of byId.values()) this.counts.add(instance);
    this.sortedNames = undefined;
  }

  applyDelta(payload: ApplicationsPayload): DeltaResult {
    const touched = new Set<string>();
    let skipped = 0;
    for (const [name, instances] of payload.apps) {
      for (const instance of instances) {
        const id = instanceKey(instance);
        if (!id) {
          skipped++;
          continue;
        }
        const action = instance.actionType;
        if (action === 'ADDED' || action === 'MODIFIED') {
          let byId = this.apps.get(name);
          if (!byId) {
            this.apps.set(name, (byId = new Map()));
            this.sortedNames = undefined;
          }
          const previous = byId.get(id);
          if (previous) this.counts.remove(previous);
          byId.set(id, instance);
          this.counts.add(instance);
          if (previous && sameInstanceContent(previous, instance)) continue;
        } else if (action === 'DELETED') {
          const byId = this.apps.get(name);
          const previous = byId?.get(id);
          if (byId && previous) {
            byId.delete(id);
            this.counts.remove(previous);
          }
          if (byId && byId.size === 0) {
            this.apps.delete(name);
            this.sortedNames = undefined;
          }
          // Deleting what is not there (a repeated cancel) changes nothing.
          if (!previous) continue;
        } else {
          skipped++;
          continue;
        }
        touched.add(name);
      }
    }
    return { touched, skipped };
  }

  hashCode(): string {
    return this.counts.hashCode();
  }

  /** App names in sorted order; the caller must not modify the array. */
  appNames(): readonly string[] {
    this.sortedNames ??= [...this.apps.keys()].sort();
    return this.sortedNames;
  }

  instances(app: string): EurekaInstanceJson[] {
    return [...(this.apps.get(app)?.values() ?? [])];
  }

  get size(): number {
    return this.apps.size;
  }
}
