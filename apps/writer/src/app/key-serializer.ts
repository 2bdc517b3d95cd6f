/**
 * One run per key at a time in this process: the ingest worker and the reconcile worker may both
 * reach the same key, and two reconciles of one key racing could let an older read write last.
 */
export class KeySerializer<T> {
  private readonly running = new Map<string, Promise<T>>();

  busy(key: string): boolean {
    return this.running.has(key);
  }

  /** Runs `fn` after every run of the same key that started before it. */
  async run(key: string, fn: () => Promise<T>): Promise<T> {
    // Re-check after each wait: another waiter may have started in between.
    for (let r = this.running.get(key); r; r = this.running.get(key)) await r.catch(() => undefined);
    const run = fn();
    this.running.set(key, run);
    try {
      return await run;
    } finally {
      if (this.running.get(key) === run) this.running.delete(key);
    }
  }
}
