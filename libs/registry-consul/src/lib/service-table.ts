/** What the watch knows of one service this replica owns. */
export interface ServiceState {
  name: string;
  key: string;
  /** Blocking index of its last health read; 0 reads it non-blocking next. */
  index: number;
  /** A record of it was sent (the emitter keeps its hash and revision). */
  sent: boolean;
  /** Consul answered for it at least once. */
  read?: boolean;
  /** Services whose instances are all proxies/gateways: not workloads, never emitted. */
  excluded: boolean;
  lastChangeAt: number;
  /** Nodes of its instances (a node-level check flip touches them). */
  nodes: Set<string>;
  lastError?: string;
}

/**
 * The services of one source that this replica owns, shared by the catalog watch, the blocking
 * pool, the poll scheduler and the service reads. Only the table adds or drops a service's state.
 */
export class ServiceTable {
  private readonly services = new Map<string, ServiceState>();

  constructor(private readonly keyOf: (name: string) => string) {}

  get(name: string): ServiceState | undefined {
    return this.services.get(name);
  }

  has(name: string): boolean {
    return this.services.has(name);
  }

  values(): IterableIterator<ServiceState> {
    return this.services.values();
  }

  delete(name: string): ServiceState | undefined {
    const st = this.services.get(name);
    this.services.delete(name);
    return st;
  }

  /**
   * Lines the table up with the catalog's names and the ownership: adds the owned ones it lacks
   * (`added`, to be read at once) and drops those owned elsewhere now (`dropped`). A service gone
   * from the catalog stays until its removal drops it (a filtered catalog proves nothing).
   */
  sync(names: Iterable<string>, owns: (key: string) => boolean): { owned: ServiceState[]; added: string[]; dropped: ServiceState[] } {
    const owned: ServiceState[] = [];
    const added: string[] = [];
    const dropped: ServiceState[] = [];
    for (const name of names) {
      const key = this.keyOf(name);
      let st = this.services.get(name);
      if (!owns(key)) {
        if (st) {
          this.services.delete(name);
          dropped.push(st);
        }
        continue;
      }
      if (!st) {
        st = { name, key, index: 0, sent: false, excluded: false, lastChangeAt: 0, nodes: new Set() };
        this.services.set(name, st);
        added.push(name);
      }
      owned.push(st);
    }
    return { owned, added, dropped };
  }

  /** Services with an instance on one of these nodes. */
  onNodes(nodes: ReadonlySet<string>): string[] {
    if (!nodes.size) return [];
    return [...this.services.values()].filter((s) => [...s.nodes].some((n) => nodes.has(n))).map((s) => s.name);
  }

  /** Keeps a service's last read error: true when it is new (a persistent error is said once), or the service unknown. */
  noteError(name: string | undefined, message: string): boolean {
    const st = name ? this.services.get(name) : undefined;
    if (st?.lastError === message) return false;
    if (st) st.lastError = message;
    return true;
  }

  /**
   * For a one-shot read: services listed and not read yet, the ones left out because all their
   * instances are Connect proxies or gateways, and the last read error of each.
   */
  readProgress(): { pending: string[]; excluded: string[]; errors: Map<string, string> } {
    const pending: string[] = [];
    const excluded: string[] = [];
    const errors = new Map<string, string>();
    for (const st of this.services.values()) {
      if (st.excluded) excluded.push(st.name);
      else if (!st.read) pending.push(st.name);
      if (st.lastError) errors.set(st.name, st.lastError);
    }
    return { pending, excluded, errors };
  }
}
