import { rateLimitDelay } from './blocking-index';
import { sleep } from './watch-loop';

export interface PollSchedulerOptions {
  pollRatePerSecond: number;
  pollConcurrency: number;
  now: () => number;
  /** Known and outside the blocking pool: a poll may read it. */
  pollable(name: string): boolean;
  /** Reads one service. */
  read(name: string, signal: AbortSignal): Promise<void>;
  /** A read failed (not because the scheduler was stopped). */
  failed(name: string, err: unknown): void;
}

/** Idle wait of a scheduler with nothing to poll; wake() ends it at once. */
const IDLE_MS = 60000;

/**
 * Short, non-blocking reads of the owned services outside the blocking pool: urgent ones first
 * (new, tag change, health flip), then the rest round-robin at `pollRatePerSecond`, at most
 * `pollConcurrency` at once.
 */
export class PollScheduler {
  private readonly urgent = new Set<string>();
  private queue: readonly string[] = [];
  private wakeUp?: () => void;

  constructor(private readonly o: PollSchedulerOptions) {}

  /** Read it at the next turn, before the round-robin (wake() to cut a wait short). */
  markUrgent(name: string): void {
    this.urgent.add(name);
  }

  /** Read it at once if a poll may (a health flip outside the pool). */
  poke(name: string): void {
    if (!this.o.pollable(name)) return;
    this.urgent.add(name);
    this.wake();
  }

  unmark(name: string): void {
    this.urgent.delete(name);
  }

  get hasUrgent(): boolean {
    return this.urgent.size > 0;
  }

  /** The services of the round-robin, in order. */
  setQueue(names: readonly string[]): void {
    this.queue = names;
  }

  get queued(): number {
    return this.queue.length;
  }

  /** Ends the current wait at once. */
  wake(): void {
    this.wakeUp?.();
  }

  /** Runs until `signal` aborts (then wake() it). */
  async run(signal: AbortSignal): Promise<void> {
    const spacing = 1000 / this.o.pollRatePerSecond;
    let cursor = 0;
    let inflight = 0;
    const slots: Array<() => void> = [];
    const acquire = async (): Promise<void> => {
      while (inflight >= this.o.pollConcurrency) await new Promise<void>((r) => slots.push(r));
      inflight++;
    };
    const release = (): void => {
      inflight--;
      slots.shift()?.();
    };
    let lastRoundRobin = 0;
    while (!signal.aborted) {
      let name: string | undefined;
      const urgent = [...this.urgent].find((n) => this.o.pollable(n));
      if (urgent) {
        this.urgent.delete(urgent);
        name = urgent;
      } else {
        for (const n of [...this.urgent]) if (!this.o.pollable(n)) this.urgent.delete(n);
        const wait = this.queue.length ? rateLimitDelay(lastRoundRobin, this.o.now(), spacing) : IDLE_MS;
        if (wait > 0) {
          await new Promise<void>((resolve) => {
            this.wakeUp = resolve;
            void sleep(wait, signal).then(resolve);
          });
          this.wakeUp = undefined;
          continue;
        }
        lastRoundRobin = this.o.now();
        if (cursor >= this.queue.length) cursor = 0;
        name = this.queue[cursor++];
      }
      if (!name || !this.o.pollable(name)) continue;
      await acquire();
      const polled = name;
      void this.o
        .read(polled, signal)
        .catch((err) => {
          if (!signal.aborted) this.o.failed(polled, err);
        })
        .finally(release);
    }
  }
}
