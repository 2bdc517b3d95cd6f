import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EurekaResponse } from './eureka-rest.client';
import { SelfPreservationMonitor } from './self-preservation.monitor';

// Pages captured from the real Spring Cloud Netflix Eureka server (as in self-preservation.spec.ts).
const page = (active: boolean) => readFileSync(join(__dirname, '__fixtures__', active ? 'dashboard-self-preservation.html' : 'dashboard-self-preservation-off.html'), 'utf8');

describe('SelfPreservationMonitor', () => {
  let now: number;
  let body: string | Error;
  let reads: string[];
  let entered: number;
  let states: Array<boolean | undefined>;
  const client = {
    getFromOrigin: async (path: string): Promise<EurekaResponse> => {
      reads.push(path);
      if (body instanceof Error) throw body;
      return { status: 200, body, server: 'http://eureka:8761/eureka', durationMs: 1 };
    },
  };
  const monitor = ({ dashboardPath }: { dashboardPath?: string } = { dashboardPath: '/' }) =>
    new SelfPreservationMonitor(client, { dashboardPath, dashboardIntervalMs: 60_000 }, (s) => states.push(s?.active), () => entered++, () => now);

  beforeEach(() => {
    now = 1_000_000;
    body = page(false);
    reads = [];
    entered = 0;
    states = [];
  });

  it('reads the dashboard at most once per interval', async () => {
    const m = monitor();
    await m.readIfDue();
    now += 59_000;
    await m.readIfDue();
    expect(reads).toEqual(['/']);
    now += 1_000;
    await m.readIfDue();
    expect(reads).toEqual(['/', '/']);
  });

  it('tells once when the cluster enters self-preservation, and reports every state read', async () => {
    const m = monitor();
    await m.readIfDue();
    body = page(true);
    now += 60_000;
    await m.readIfDue();
    now += 60_000;
    await m.readIfDue();
    expect(m.state?.active).toBe(true);
    expect(entered).toBe(1);
    expect(states).toEqual([false, true, true]);
  });

  it('an unreadable dashboard makes the state unknown, never an error', async () => {
    const m = monitor();
    body = page(true);
    await m.readIfDue();
    body = new Error('ECONNRESET');
    now += 60_000;
    await expect(m.readIfDue()).resolves.toBeUndefined();
    expect(m.state).toBeUndefined();
    expect(states).toEqual([true, undefined]);
  });

  it('without a dashboard path reads nothing', async () => {
    const m = monitor({ dashboardPath: undefined });
    await m.readIfDue();
    expect(reads).toEqual([]);
    expect(m.state).toBeUndefined();
  });
});
