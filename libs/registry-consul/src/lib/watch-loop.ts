import { backoffDelay, rateLimitDelay } from './blocking-index';

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
