import { ApplicationsPayload, EurekaInstanceJson, instanceKey } from './eureka-payload';
import { reconcileHashCode } from './reconcile-hash';

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
 */
export class LocalRegistry {
  private apps = new Map<string, Map<string, EurekaInstanceJson>>();

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
          if (!byId) this.apps.set(name, (byId = new Map()));
          byId.set(id, instance);
        } else if (action === 'DELETED') {
          const byId = this.apps.get(name);
          byId?.delete(id);
          if (byId && byId.size === 0) this.apps.delete(name);
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
    return reconcileHashCode([...this.apps.values()].map((m) => m.values()));
  }

  appNames(): string[] {
    return [...this.apps.keys()].sort();
  }

  instances(app: string): EurekaInstanceJson[] {
    return [...(this.apps.get(app)?.values() ?? [])];
  }

  get size(): number {
    return this.apps.size;
  }
}
