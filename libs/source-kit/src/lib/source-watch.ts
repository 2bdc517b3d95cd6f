import { RecordPort, StatusPort } from './source-emitter';

/** Structured log lines of a source's watch (never secrets). */
export interface SourceLog {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

/** Sharing work between replicas; collector-core's MembershipService fits. */
export interface WatchCoordination {
  owns(serviceKey: string): boolean;
  /** Takes or renews the named lease; true while this replica holds it. */
  leaseFor(name: string): Promise<boolean>;
  /** True while this replica holds the named lease (no Redis round trip). */
  holdsLease(name: string): boolean;
}

/** What the collector runtime gives every source's watch. */
export interface WatchContext {
  port: RecordPort;
  /** Status heartbeats; `isReady`: read successfully within the last `graceSeconds`. */
  status: StatusPort & { isReady(source: string, graceSeconds: number): boolean };
  coordination: WatchCoordination;
  log: SourceLog;
}

/** A source being watched: the runtime starts and stops it, and tells it what changed around it. */
export interface SourceWatch {
  start(): Promise<void> | void;
  stop(): Promise<void>;
  /** The replica membership moved: pick up or drop services at once. */
  ownershipChanged(): void;
  /** Redis lost its data: send every record and a complete snapshot again. */
  resendAll(): void;
  /** This replica lost the named lease (a source read by one replica at a time stands down). */
  leaseLost?(name: string): void;
  /** For /health/ready. */
  readiness(): { ready: boolean; detail?: string };
}
