import { ConsulHttpClient } from './consul-http.client';
import { DropReason } from './consul-normalize';
import { ConsulSourceConfig, ConsulWatchOptions } from './consul-source.schema';

/** The one place the watch's options are taken from a source's config. */
export const watchOptionsOf = (cfg: ConsulSourceConfig): ConsulWatchOptions => cfg.watch;

/** Which services this replica watches, and whether it sends the source's snapshots. */
export interface ConsulOwnership {
  owns(serviceKey: string): boolean;
  /** Takes or renews the source's snapshot lease; true while this replica holds it. */
  snapshotLease(): Promise<boolean>;
}

export interface ConsulWatcherMetrics {
  watchesActive(n: number): void;
  changeSeen(loop: WatchLoop): void;
  error(loop: WatchLoop, kind: string): void;
  indexReset(loop: WatchLoop): void;
  dropped(reason: DropReason | 'acl_filtered', n: number): void;
  request(loop: WatchLoop, mode: 'blocking' | 'poll'): void;
  emitted(type: 'upsert' | 'remove' | 'snapshot' | 'unchanged'): void;
  changeLatency(seconds: number): void;
  /** ACL filtering seen: `catalog` 1/0 (the catalog answer was filtered), `health` = services whose instances Consul hid. */
  aclFiltered(read: 'catalog' | 'health', n: number): void;
  /** Services this replica watches. */
  owned(n: number): void;
}

export type WatchLoop = 'catalog' | 'service' | 'health_state' | 'config';

export const NOOP_CONSUL_METRICS: ConsulWatcherMetrics = {
  watchesActive: () => undefined,
  changeSeen: () => undefined,
  error: () => undefined,
  indexReset: () => undefined,
  dropped: () => undefined,
  request: () => undefined,
  emitted: () => undefined,
  changeLatency: () => undefined,
  aclFiltered: () => undefined,
  owned: () => undefined,
};

/** The watcher's log lines (never secrets). */
export interface ConsulWatchLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** What every part of one source's watch shares. */
export interface ConsulWatchContext {
  /** The source's name, in every log line. */
  source: string;
  client: ConsulHttpClient;
  options: ConsulWatchOptions;
  metrics: ConsulWatcherMetrics;
  log: ConsulWatchLog;
  now: () => number;
  /** Timeout of the non-blocking read that follows `failures` failed ones. */
  recoveryTimeout(failures: number): number;
}
