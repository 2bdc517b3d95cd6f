import { SourceEmitter, SourceEmitterOptions, WatchCoordination } from '@registry-bridge/source-kit';
import type { CloudMapReader } from './cloudmap-reader.service';
import type { PollObserver } from './cloudmap-service.poller';

// What a Cloud Map watcher is given: its reader, emitter, replica coordination, observer and log.

/** Sharing work between replicas; collector-core's MembershipService fits. */
export type WatcherCoordination = Pick<WatchCoordination, 'owns' | 'leaseFor'>;

export interface WatcherObserver extends PollObserver {
  onServices(total: number, owned: number): void;
  onSuccess(at: number): void;
  onError(phase: 'inventory' | 'poll', error: unknown): void;
  onCycle(phase: 'inventory' | 'poll', seconds: number): void;
}

export const NOOP_WATCHER_OBSERVER: WatcherObserver = {
  onDrops: () => undefined,
  onChange: () => undefined,
  onSkip: () => undefined,
  onServices: () => undefined,
  onSuccess: () => undefined,
  onError: () => undefined,
  onCycle: () => undefined,
};

/** Single replica: owns everything, always holds the lease. */
export const SINGLE_REPLICA: WatcherCoordination = { owns: () => true, leaseFor: async () => true };

export interface WatcherDeps {
  reader: CloudMapReader;
  /** Records, snapshots and status of this source. Without a status port of its own, the watcher re-sends its status every `intervals.statusSeconds`. */
  emitter: SourceEmitter;
  /** The emitter's status port re-sends on its own timer (collector-core's SourceStatusReporter). */
  statusHeartbeats?: boolean;
  coordination?: WatcherCoordination;
  observer?: WatcherObserver;
  now?: () => number;
  /** Called with messages worth a log line (never secrets: AWS error names and messages only). */
  log?: (level: 'info' | 'warn', message: string, fields?: Record<string, unknown>) => void;
}

/** The emitter of a Cloud Map source: a removal carries the last revision sent (the writer breaks the tie by observedAt). */
export function cloudMapEmitter(source: string, options: Omit<SourceEmitterOptions, 'removalRevision'>): SourceEmitter {
  return new SourceEmitter({ name: source, kind: 'cloudmap' }, { ...options, removalRevision: (_registry, last) => last });
}
