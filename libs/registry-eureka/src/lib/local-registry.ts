import { ApplicationsPayload, EurekaInstanceJson, instanceKey } from './eureka-payload';
import { ReconcileCounts } from './reconcile-hash';

export interface DeltaResult {
  /** Upper-case names of the applications the delta touched. */
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
