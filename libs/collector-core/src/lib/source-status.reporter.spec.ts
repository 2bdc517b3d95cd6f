import { SourceStatusMessage } from '@registry-bridge/contract';
import { MetricsService } from '@registry-bridge/observability';
import { CollectorMetrics } from './collector-metrics';
import { SourceStatusReporter, StatusProducer } from './source-status.reporter';

describe('SourceStatusReporter', () => {
  let clock: Date;
  let sent: Array<Parameters<StatusProducer['sourceStatus']>[0]>;
  let metrics: MetricsService;
  let reporter: SourceStatusReporter;

  beforeEach(() => {
    clock = new Date('2026-01-01T00:00:00Z');
    sent = [];
    metrics = new MetricsService();
    reporter = new SourceStatusReporter({ sourceStatus: async (m) => void sent.push(m) }, 'consul', 10, new CollectorMetrics(metrics), () => clock);
  });

  it('sends a status and remembers the last success', async () => {
    await reporter.report('consul-dc1', { reachable: true, conditions: { leader: true } });
    expect(sent).toEqual([
      {
        source: { name: 'consul-dc1', kind: 'consul' },
        reachable: true,
        lastSuccessAt: '2026-01-01T00:00:00.000Z',
        conditions: { leader: true },
        observedAt: '2026-01-01T00:00:00.000Z',
      },
    ]);
    expect(await metrics.registry.getSingleMetricAsString('registry_bridge_collector_last_success_timestamp_seconds')).toContain(
      `{source="consul-dc1"} ${clock.getTime() / 1000}`,
    );
  });

  it('keeps the last success across failures and bounds the error text', async () => {
    await reporter.report('consul-dc1', { reachable: true });
    clock = new Date('2026-01-01T00:01:00Z');
    await reporter.report('consul-dc1', { reachable: false, error: 'x'.repeat(5000) });
    const last = sent[1] as Partial<SourceStatusMessage>;
    expect(last).toMatchObject({ reachable: false, lastSuccessAt: '2026-01-01T00:00:00.000Z', observedAt: '2026-01-01T00:01:00.000Z' });
    expect(last.error).toHaveLength(2048);
  });

  it('is ready only within the grace period after a success', async () => {
    expect(reporter.isReady('consul-dc1', 30)).toBe(false);
    await reporter.report('consul-dc1', { reachable: true });
    clock = new Date('2026-01-01T00:00:30Z');
    expect(reporter.isReady('consul-dc1', 30)).toBe(true);
    await reporter.report('consul-dc1', { reachable: false, error: 'timeout' });
    clock = new Date('2026-01-01T00:00:31Z');
    expect(reporter.isReady('consul-dc1', 30)).toBe(false);
  });

  it('re-sends the latest status of every source on the heartbeat, with a fresh observedAt', async () => {
    await reporter.report('a', { reachable: true });
    await reporter.report('b', { reachable: false, error: 'refused' });
    sent.length = 0;
    clock = new Date('2026-01-01T00:00:10Z');
    await reporter.resendAll();
    expect(sent.map((m) => [m.source.name, m.reachable, m.error, m.observedAt])).toEqual([
      ['a', true, undefined, '2026-01-01T00:00:10.000Z'],
      ['b', false, 'refused', '2026-01-01T00:00:10.000Z'],
    ]);
  });

  it('runs the heartbeat on a timer and survives a failing send', async () => {
    jest.useFakeTimers();
    try {
      let fail = true;
      const calls: string[] = [];
      const r = new SourceStatusReporter({ sourceStatus: async (m) => (calls.push(m.source.name), fail ? Promise.reject(new Error('down')) : undefined) }, 'eureka', 5);
      await r.report('e1', { reachable: true }).catch(() => undefined);
      r.start();
      await jest.advanceTimersByTimeAsync(5000);
      fail = false;
      await jest.advanceTimersByTimeAsync(5000);
      r.stop();
      await jest.advanceTimersByTimeAsync(20000);
      expect(calls).toEqual(['e1', 'e1', 'e1']);
    } finally {
      jest.useRealTimers();
    }
  });
  describe('reportChange (a collector that polls faster than the heartbeat)', () => {
    const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s));

    it('sends a changed status at once, an unchanged one only once a heartbeat is due, with the latest success', async () => {
      await reporter.reportChange('e1', { reachable: true });
      clock = at(4);
      await reporter.reportChange('e1', { reachable: true });
      expect(sent).toHaveLength(1);
      clock = at(5);
      await reporter.reportChange('e1', { reachable: true, conditions: { apps: 3 } });
      expect(sent).toHaveLength(2);
      clock = at(14);
      await reporter.reportChange('e1', { reachable: true, conditions: { apps: 3 } });
      expect(sent).toHaveLength(2);
      clock = at(15);
      await reporter.reportChange('e1', { reachable: true, conditions: { apps: 3 } });
      expect(sent).toHaveLength(3);
      expect(sent[2]).toMatchObject({ lastSuccessAt: at(15).toISOString(), observedAt: at(15).toISOString() });
    });

    it('tries a failed send again on the next report, and counts the heartbeat from the last send that worked', async () => {
      let fail = true;
      const calls: string[] = [];
      const r = new SourceStatusReporter({ sourceStatus: async (m) => (calls.push(m.observedAt), fail ? Promise.reject(new Error('down')) : undefined) }, 'eureka', 10, undefined, () => clock);
      await expect(r.reportChange('e1', { reachable: false, error: 'refused' })).rejects.toThrow('down');
      fail = false;
      clock = at(1);
      await r.reportChange('e1', { reachable: false, error: 'refused' });
      clock = at(2);
      await r.reportChange('e1', { reachable: false, error: 'refused' });
      expect(calls).toEqual([at(0).toISOString(), at(1).toISOString()]);
    });

    it('resendIfDue re-sends the latest status only once a heartbeat has passed since the last send', async () => {
      await reporter.reportChange('e1', { reachable: false, error: 'refused' });
      clock = at(9);
      await reporter.resendIfDue('e1');
      await reporter.resendIfDue('unknown');
      expect(sent).toHaveLength(1);
      clock = at(10);
      await reporter.resendIfDue('e1');
      expect(sent.map((m) => [m.reachable, m.error, m.observedAt])).toEqual([
        [false, 'refused', at(0).toISOString()],
        [false, 'refused', at(10).toISOString()],
      ]);
    });

    it('forget drops a source: nothing is re-sent for it, and its next report is sent whatever it says', async () => {
      await reporter.reportChange('e1', { reachable: true });
      reporter.forget('e1');
      clock = at(30);
      await reporter.resendAll();
      await reporter.resendIfDue('e1');
      expect(sent).toHaveLength(1);
      expect(reporter.sources()).toEqual([]);
      await reporter.reportChange('e1', { reachable: true });
      expect(sent).toHaveLength(2);
    });
  });
});
