import type { EurekaRestClient } from './eureka-rest.client';
import { parseSelfPreservation, type SelfPreservationState } from './self-preservation';

export interface SelfPreservationMonitorOptions {
  /** The dashboard's path on the server's origin; undefined disables reading it. */
  dashboardPath?: string;
  /** How often to read the dashboard, ms. */
  dashboardIntervalMs: number;
}

/**
 * Whether a Eureka cluster is in self-preservation, read from its dashboard at most once per
 * interval (the REST API does not say). Unknown (undefined) when the page cannot be read.
 */
export class SelfPreservationMonitor {
  private lastReadAt = 0;
  private current?: SelfPreservationState;

  constructor(
    private readonly client: Pick<EurekaRestClient, 'getFromOrigin'>,
    private readonly options: SelfPreservationMonitorOptions,
    private readonly onState: (state: SelfPreservationState | undefined) => void = () => undefined,
    /** Told when the cluster enters self-preservation. */
    private readonly onEnter: () => void = () => undefined,
    private readonly clock: () => number = Date.now,
  ) {}

  get state(): SelfPreservationState | undefined {
    return this.current;
  }

  /** Reads the dashboard when a read is due; never throws. */
  async readIfDue(): Promise<void> {
    const path = this.options.dashboardPath;
    if (path === undefined) return;
    const now = this.clock();
    if (this.lastReadAt && now - this.lastReadAt < this.options.dashboardIntervalMs) return;
    this.lastReadAt = now;
    let state: SelfPreservationState | undefined;
    try {
      const res = await this.client.getFromOrigin(path, { Accept: 'text/html' }, true);
      // Any status: a dashboard whose instance list fails to render still shows the banners.
      state = parseSelfPreservation(res.body);
    } catch {
      state = undefined;
    }
    if (state?.active && !this.current?.active) this.onEnter();
    this.current = state;
    this.onState(state);
  }
}
