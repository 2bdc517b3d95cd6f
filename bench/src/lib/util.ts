import { performance } from 'node:perf_hooks';

/** Wall-clock milliseconds with sub-millisecond resolution (latencies compare two of these). */
export const nowMs = (): number => performance.timeOrigin + performance.now();

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export interface Summary {
  n: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

/** Nearest-rank percentiles; an empty sample gives NaN so a missing figure is never read as 0. */
export function summarize(values: number[]): Summary {
  const v = [...values].sort((a, b) => a - b);
  const pick = (p: number) => (v.length ? v[Math.min(v.length - 1, Math.ceil((p / 100) * v.length) - 1)] : NaN);
  const mean = v.length ? v.reduce((a, b) => a + b, 0) / v.length : NaN;
  return { n: v.length, p50: pick(50), p90: pick(90), p99: pick(99), max: v.length ? v[v.length - 1] : NaN, mean };
}

/** Runs `fn` over items with at most `concurrency` in flight. */
export async function pool<T>(items: T[], concurrency: number, fn: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        await fn(items[i], i);
      }
    }),
  );
}

/** Polls `fn` until it returns a truthy value or `ms` passes (then throws, naming `what`). */
export async function until<T>(what: string, fn: () => Promise<T | undefined | false> | T | undefined | false, ms: number, everyMs = 200): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = await fn();
    if (v) return v as T;
    if (Date.now() - t0 > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

export const round = (x: number, digits = 1): number => (Number.isFinite(x) ? Math.round(x * 10 ** digits) / 10 ** digits : x);

export function log(msg: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
}
