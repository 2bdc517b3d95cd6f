import type { SourceEmitter } from '@registry-bridge/source-kit';
import type { CloudMapSourceConfig } from './cloudmap-config.schema';
import { SinkError } from './cloudmap-errors.util';
import { buildServiceRecord, CloudMapServiceRef, DropCounts } from './cloudmap-normalize.util';
import type { CloudMapReader } from './cloudmap-reader.service';

export type ChangeKind = 'added' | 'revision' | 'health' | 'removed';

/** What a service poll tells the metrics. */
export interface PollObserver {
  onDrops(drops: DropCounts): void;
  onChange(kind: ChangeKind): void;
  onSkip(reason: 'revision-unchanged' | 'content-unchanged'): void;
}

interface ServiceState {
  ref: CloudMapServiceRef;
  /** Last InstancesRevision compared against DiscoverInstancesRevision. */
  seenRevision?: number;
  nextHealthAt: number;
}

export type PollConfig = Pick<CloudMapSourceConfig, 'name' | 'region' | 'protocolAttribute' | 'discoverMaxResults' | 'intervals'>;

/**
 * Polls the services of one Cloud Map source one at a time, cheapest first: DiscoverInstancesRevision,
 * and DiscoverInstances only when the revision moved or a health re-read is due (a health change
 * does not move the revision). Keeps per service the revision seen and when health is due.
 */
export class CloudMapServicePoller {
  private readonly states = new Map<string, ServiceState>();

  constructor(
    private readonly config: PollConfig,
    private readonly reader: Pick<CloudMapReader, 'revision' | 'instances'>,
    private readonly emitter: SourceEmitter,
    private readonly observer: PollObserver,
    private readonly now: () => number,
  ) {}

  /**
   * Reads the service and sends its record when it changed. Throws the registry's error, or a
   * SinkError when the record port did not take the record (it is read and sent again next time).
   */
  async poll(key: string, ref: CloudMapServiceRef): Promise<void> {
    let state = this.states.get(key);
    if (!state || state.ref.id !== ref.id) {
      state = { ref, nextHealthAt: 0 };
      this.states.set(key, state);
    }
    state.ref = ref;
    const now = this.now();
    const healthDue = now >= state.nextHealthAt;
    let dir: number | undefined;
    if (state.seenRevision !== undefined && !healthDue) {
      dir = await this.reader.revision(ref);
      if (dir === state.seenRevision) {
        this.observer.onSkip('revision-unchanged');
        return;
      }
    }
    const read = await this.reader.instances(ref, this.config.discoverMaxResults);
    // Cloud Map's revisions only grow, but if one ever steps back (moto's does on deregistration),
    // the emitter keeps a real change above what it sent, or the writer would drop it as stale.
    const registryRevision = Math.max(read.revision, dir ?? 0);
    const { record, drops } = buildServiceRecord(ref, read.instances, registryRevision, {
      source: this.config.name,
      region: this.config.region,
      protocolAttribute: this.config.protocolAttribute,
      observedAt: new Date(this.now()).toISOString(),
    });
    this.observer.onDrops(drops);
    const firstRead = state.seenRevision === undefined;
    state.seenRevision = dir ?? read.revision;
    // Jittered so a few hundred services do not all re-read health in the same second.
    state.nextHealthAt = this.now() + this.config.intervals.healthSeconds * 1000 * (0.9 + Math.random() * 0.2);
    let sent: number | undefined;
    try {
      sent = await this.emitter.upsert(record, registryRevision);
    } catch (err) {
      // Not sent (the emitter forgot it): the next cycle reads and sends again.
      state.seenRevision = undefined;
      throw new SinkError(err);
    }
    if (sent === undefined) {
      this.observer.onSkip('content-unchanged');
      return;
    }
    this.observer.onChange(firstRead ? 'added' : dir !== undefined ? 'revision' : 'health');
  }

  /** Forgets the services not in `keep` (moved to another replica or gone); a later return reads and sends them again. */
  keepOnly(keep: (key: string) => boolean): void {
    for (const key of [...this.states.keys()]) {
      if (!keep(key)) {
        this.states.delete(key);
        this.emitter.forget(key);
      }
    }
  }

  /** Forgets a service gone from the inventory; its last seen revision, or undefined when it was never polled here. */
  take(key: string): { seenRevision?: number } | undefined {
    const state = this.states.get(key);
    this.states.delete(key);
    return state && { seenRevision: state.seenRevision };
  }

  /** Forgets every service: each is read in full at its next poll. */
  clear(): void {
    this.states.clear();
  }
}
