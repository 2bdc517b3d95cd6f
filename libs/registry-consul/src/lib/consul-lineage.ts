import { ConsulHttpClient } from './consul-http.client';
import { ConsulWatchLog } from './consul-watch.types';

/**
 * The revision lineage of a Consul source. The Connect CA trust domain is `<cluster id>.consul`,
 * minted when a cluster is bootstrapped: a wiped/rebuilt Consul gets a new one, so records carry a
 * lineage every replica agrees on.
 */
export class ConsulLineage {
  current?: string;
  private clusterId?: string;

  constructor(
    private readonly source: string,
    private readonly client: ConsulHttpClient,
    private readonly log: ConsulWatchLog,
    private readonly now: () => number,
  ) {}

  /** Reads the cluster id; the lineage it names, or the current one when Consul has no Connect CA. */
  async read(signal: AbortSignal): Promise<string | undefined> {
    try {
      const r = await this.client.get<{ TrustDomain?: string }>('/v1/connect/ca/roots', { signal });
      const id = r.body.TrustDomain?.split('.')[0];
      if (id) {
        this.clusterId = id;
        return `consul-${id}`.slice(0, 128);
      }
    } catch (err) {
      this.log.info({ source: this.source, err: (err as Error).message }, 'no Connect CA (cluster id) to name the index lineage; using index resets only');
    }
    return this.current;
  }

  /**
   * The catalog index went backwards. Stale reads from another server or a snapshot restore do
   * that too, so a new lineage is started only when Consul is a different cluster (new cluster
   * id) or, without a cluster id, when the index fell to less than half (a rebuilt Consul starts
   * near 0). Within a lineage, revisions stay monotonic per service anyway. True when a new
   * lineage started (every service must be read again, its revisions restart).
   */
  async wentBackwards(previous: number, returned: number, signal: AbortSignal): Promise<boolean> {
    const before = this.clusterId;
    const fresh = await this.read(signal);
    const rebuilt = this.clusterId !== undefined ? this.clusterId !== before : returned < previous / 2;
    if (!rebuilt) {
      this.log.info({ source: this.source, previous, returned }, 'Consul catalog index went backwards (stale read or restore): index reset, same lineage');
      return false;
    }
    this.current = fresh && this.clusterId !== before ? fresh : `${(fresh ?? 'consul').slice(0, 100)}.r${this.now().toString(36)}`;
    this.log.warn({ source: this.source, lineage: this.current, previous, returned }, 'Consul was rebuilt (index restarted): new revision lineage, re-reading every service');
    return true;
  }
}
