/**
 * Consul's rules for blocking queries (https://developer.hashicorp.com/consul/api-docs/features/blocking),
 * as pure functions so the watch loops stay thin and the rules are table-tested.
 */

export type IndexVerdict =
  /** First answer, or the index moved forward: the body is new. */
  | 'changed'
  /** Same index as the one we waited on: the wait timed out, nothing changed. */
  | 'unchanged'
  /** The index went backwards (snapshot restore, service re-created, agent wiped): start over from 0. */
  | 'reset';

export interface IndexStep {
  verdict: IndexVerdict;
  /** Index to send with the next request. */
  next: number;
}

/**
 * Decides what a blocking answer means and which index to wait on next.
 * - index went backwards -> reset to 0 (a full, non-blocking read next);
 * - index 0 after a response -> use 1, else the next query returns at once and loops hot;
 * - unparsable index -> treat as 0 (same protection).
 */
export function nextIndex(previous: number, returned: number | undefined): IndexStep {
  const got = returned !== undefined && Number.isFinite(returned) && returned > 0 ? Math.floor(returned) : 0;
  if (previous > 0 && got > 0 && got < previous) return { verdict: 'reset', next: 0 };
  if (got === 0) return { verdict: previous === 0 ? 'changed' : 'reset', next: 1 };
  if (got === previous) return { verdict: 'unchanged', next: got };
  return { verdict: 'changed', next: got };
}

export function parseConsulIndex(header: string | string[] | undefined): number | undefined {
  const raw = Array.isArray(header) ? header[0] : header;
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  return Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}

/** Full-jitter exponential backoff (AWS architecture blog): spreads replicas that failed together. */
export function backoffDelay(attempt: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  const cap = Math.min(maxMs, baseMs * 2 ** Math.min(attempt, 30));
  return Math.floor(random() * cap);
}

/**
 * Minimum spacing between two requests of one loop: when a key churns, every blocking query returns
 * at once, so without this the loop would hammer the server; with it churn degrades to polling.
 */
export function rateLimitDelay(lastStartMs: number, nowMs: number, minIntervalMs: number): number {
  return Math.max(0, lastStartMs + minIntervalMs - nowMs);
}

/** Consul adds up to wait/16 of jitter to the wait; the client timeout must outlast both. */
export function requestTimeoutMs(waitMs: number, slackMs = 5000): number {
  return waitMs + Math.ceil(waitMs / 16) + slackMs;
}

/**
 * Timeout of the non-blocking read that follows `failures` failed reads: short at first, so a
 * registry that answers again is seen at once, growing to the normal timeout so a slow but live
 * server is not cut off for ever.
 */
export function recoveryTimeoutMs(failures: number, shortMs: number, normalMs: number): number {
  return Math.min(normalMs, shortMs * Math.max(1, failures));
}
