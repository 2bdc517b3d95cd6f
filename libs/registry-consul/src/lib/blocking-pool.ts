/** What ranking needs of a service. */
export interface PoolCandidate {
  name: string;
  /** Proxy-only services are neither watched nor polled. */
  excluded: boolean;
  lastChangeAt: number;
}

/**
 * Which owned services get a blocking query of their own: the `size` that changed most recently
 * (hot services get every change at once; ties by name keep the pool stable). The rest, in the
 * same order, are polled.
 */
export function rankForPool(owned: readonly PoolCandidate[], size: number): { pooled: string[]; polled: string[] } {
  const ranked = owned
    .filter((s) => !s.excluded)
    .sort((a, b) => b.lastChangeAt - a.lastChangeAt || (a.name < b.name ? -1 : 1))
    .map((s) => s.name);
  return { pooled: ranked.slice(0, size), polled: ranked.slice(size) };
}

/**
 * The per-service blocking queries of one source, at most `maxBlockingWatches` at once (Consul
 * limits HTTP connections per client): which services hold one, and starting and ending them.
 * `watch` runs a service's query loop until its signal aborts.
 */
export class BlockingPool {
  private readonly watches = new Map<string, AbortController>();

  constructor(
    private readonly stopped: AbortSignal,
    private readonly watch: (name: string, signal: AbortSignal) => void,
  ) {}

  has(name: string): boolean {
    return this.watches.has(name);
  }

  names(): string[] {
    return [...this.watches.keys()];
  }

  get size(): number {
    return this.watches.size;
  }

  /** Ends a service's blocking query (it is read some other way now, or gone). */
  drop(name: string): void {
    this.watches.get(name)?.abort();
    this.watches.delete(name);
  }

  /** Holds exactly `want`: ends the others' queries, then starts the missing ones, in order; returns those started. */
  assign(want: readonly string[]): string[] {
    const keep = new Set(want);
    for (const name of [...this.watches.keys()]) if (!keep.has(name)) this.drop(name);
    const started = want.filter((name) => !this.watches.has(name));
    for (const name of started) {
      const ctl = new AbortController();
      this.watches.set(name, ctl);
      this.watch(name, AbortSignal.any([ctl.signal, this.stopped]));
    }
    return started;
  }
}
