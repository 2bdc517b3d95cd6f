import { until } from './consul-watch.testing';
import { PollScheduler, PollSchedulerOptions } from './poll-scheduler';

function setup(over: Partial<PollSchedulerOptions> = {}) {
  const reads: string[] = [];
  const failures: Array<[string, string]> = [];
  const stop = new AbortController();
  const s = new PollScheduler({
    pollRatePerSecond: 1000,
    pollConcurrency: 4,
    now: Date.now,
    pollable: () => true,
    read: async (name) => void reads.push(name),
    failed: (name, err) => void failures.push([name, (err as Error).message]),
    ...over,
  });
  const running = s.run(stop.signal);
  const end = async () => {
    stop.abort();
    s.wake();
    await running;
  };
  return { s, reads, failures, end };
}

describe('PollScheduler', () => {
  it('reads urgent services first, then the queue round-robin in its order', async () => {
    const { s, reads, end } = setup({ pollConcurrency: 1 });
    s.setQueue(['a', 'b', 'c']);
    s.markUrgent('c');
    s.wake();
    await until(() => reads.length >= 5);
    await end();
    expect(reads.slice(0, 5)).toEqual(['c', 'a', 'b', 'c', 'a']);
  });

  it('never reads a service a poll may not read (pooled or unknown), urgent or queued', async () => {
    const { s, reads, end } = setup({ pollable: (n) => n !== 'b' });
    s.setQueue(['a', 'b', 'c']);
    s.markUrgent('b');
    s.wake();
    await until(() => reads.length >= 6);
    await end();
    expect(reads).not.toContain('b');
    expect(reads.slice(0, 2)).toEqual(['a', 'c']);
  });

  it('holds at most pollConcurrency reads at once', async () => {
    const held: Array<() => void> = [];
    const reads: string[] = [];
    const { s, end } = setup({ pollConcurrency: 2, read: (name) => new Promise<void>((r) => (reads.push(name), held.push(r))) });
    s.setQueue(['a', 'b', 'c', 'd']);
    s.wake();
    await until(() => reads.length === 2);
    await new Promise((r) => setTimeout(r, 30));
    expect(reads).toEqual(['a', 'b']);
    held.shift()?.();
    await until(() => reads.length === 3);
    expect(reads[2]).toBe('c');
    held.forEach((r) => r());
    await end();
  });

  it('wake() ends the idle wait: an urgent service is read at once', async () => {
    const { s, reads, end } = setup();
    // nothing queued: the scheduler sleeps a minute unless woken
    await new Promise((r) => setTimeout(r, 10));
    s.poke('a');
    await until(() => reads.includes('a'));
    await end();
  });

  it('poke ignores a service a poll may not read', async () => {
    const { s, reads, end } = setup({ pollable: (n) => n !== 'pooled' });
    s.poke('pooled');
    expect(s.hasUrgent).toBe(false);
    s.poke('free');
    await until(() => reads.includes('free'));
    await end();
    expect(reads).toEqual(['free']);
  });

  it('reports a failed read with its service, and not one that fails because the scheduler stopped', async () => {
    const pending: Array<(err: Error) => void> = [];
    const read = (name: string) => (name === 'a' ? Promise.reject(new Error('connect ECONNREFUSED')) : new Promise<void>((_r, reject) => pending.push(reject)));
    const { s, failures, end } = setup({ read });
    s.poke('a');
    await until(() => failures.length === 1);
    s.poke('b');
    await until(() => pending.length === 1);
    await end();
    pending[0](new Error('aborted'));
    await new Promise((r) => setTimeout(r, 10));
    expect(failures).toEqual([['a', 'connect ECONNREFUSED']]);
  });
});
