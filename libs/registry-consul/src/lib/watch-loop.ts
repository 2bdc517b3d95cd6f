import { backoffDelay, rateLimitDelay } from './blocking-index';
import { ConsulRequestError } from './consul-http.client';
import { ConsulWatchContext, WatchLoop } from './consul-watch.types';

/** Waits `ms`, or less when `signal` aborts. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted || ms <= 0) return resolve();
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

export interface WatchLoopOptions {
  /** At most one step per this many ms (churn degrades to polling). */
  minLoopIntervalMs: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
  now: () => number;
  /** Aborted when the source answers again: cuts the backoff short (undefined: never). */
  recovered: () => AbortSignal | undefined;
  /** A step failed (not because the loop was stopped). */
  failed: (err: unknown) => void;
}

/**
 * One watch loop: rate-limited steps, jittered exponential backoff after errors (cut short when
 * the source recovers), ending when `signal` aborts. `step` learns how many steps failed in a row.
 */
export async function runWatchLoop(signal: AbortSignal, step: (signal: AbortSignal, failures: number) => Promise<void>, o: WatchLoopOptions): Promise<void> {
  let failures = 0;
  let lastStart = 0;
  while (!signal.aborted) {
    await sleep(rateLimitDelay(lastStart, o.now(), o.minLoopIntervalMs), signal);
    if (signal.aborted) break;
    lastStart = o.now();
    try {
      await step(signal, failures);
      failures = 0;
    } catch (err) {
      if (signal.aborted) break;
      failures++;
      o.failed(err);
      const recovered = o.recovered();
      await sleep(backoffDelay(failures, o.backoffBaseMs, o.backoffMaxMs), recovered ? AbortSignal.any([signal, recovered]) : signal);
    }
  }
}

/** How one loop of a Consul source runs and says its failures. */
export interface ConsulLoopOptions {
  /** The service a per-service loop reads (its persistent error is said once). */
  service?: string;
  onError?: (err: unknown) => void;
  backoffMaxMs?: number;
  /** Counted, not logged (the loop says its errors itself). */
  quiet?: boolean;
}

/**
 * The watch loops of one Consul source: each run with the source's options and backoff, cut short
 * when Consul answers again; failures counted and logged; all awaited when the source stops.
 */
export class ConsulLoops {
  private readonly running = new Set<Promise<void>>();

  constructor(
    private readonly ctx: ConsulWatchContext,
    /** Aborted when Consul answers again. */
    private readonly recovered: () => AbortSignal,
    /** Keeps a service's last error: true when it is new. */
    private readonly noteError: (service: string | undefined, message: string) => boolean,
  ) {}

  /** Keeps `p` until it settles, so stop() can wait for it. */
  track(p: Promise<void>): void {
    this.running.add(p);
    void p.finally(() => this.running.delete(p));
  }

  /** Runs and tracks one loop (see runWatchLoop); `step` learns how many reads failed in a row. */
  run(name: WatchLoop, signal: AbortSignal, step: (signal: AbortSignal, failures: number) => Promise<void>, o: ConsulLoopOptions = {}): void {
    this.track(
      runWatchLoop(signal, step, {
        ...this.ctx.options,
        ...(o.backoffMaxMs !== undefined && { backoffMaxMs: o.backoffMaxMs }),
        now: this.ctx.now,
        // the catalog read decides reachability: it never waits for itself
        recovered: () => (name === 'catalog' ? undefined : this.recovered()),
        failed: (err) => {
          if (o.quiet) this.ctx.metrics.error(name, err instanceof ConsulRequestError ? err.kind : 'network');
          else this.failed(name, err, o.service);
          o.onError?.(err);
        },
      }),
    );
  }

  /** Counts a failed read and logs it (a persistent per-service error once). */
  failed(loop: WatchLoop, err: unknown, service?: string): void {
    const e = err instanceof ConsulRequestError ? err : new ConsulRequestError('network', (err as Error)?.message ?? String(err));
    this.ctx.metrics.error(loop, e.kind);
    if (this.noteError(service, e.message)) this.ctx.log.warn({ source: this.ctx.source, loop, service, kind: e.kind, err: e.message }, 'Consul read failed');
  }

  /** Resolves when every loop has ended (after their signals aborted). */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.running]);
  }
}
