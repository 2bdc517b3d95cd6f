import { ConsulHttpClient, ConsulRequestError } from './consul-http.client';
import { consulWatchSchema, watchBlockInMs } from './consul-source.schema';
import { RecordingLog, until, watchContext } from './consul-watch.testing';
import { ConsulWatcherMetrics } from './consul-watch.types';
import { ServiceTable } from './service-table';
import { ConsulLoops } from './watch-loop';

function setup(backoffBaseMs = 10) {
  const log = new RecordingLog();
  const errors: Array<[string, string]> = [];
  const metrics = new Proxy({} as ConsulWatcherMetrics, { get: (_t, k) => (k === 'error' ? (loop: string, kind: string) => void errors.push([loop, kind]) : () => undefined) });
  const options = watchBlockInMs(consulWatchSchema.parse({ minLoopIntervalSeconds: 0, backoffBaseSeconds: backoffBaseMs / 1000, backoffMaxSeconds: Math.max(20, backoffBaseMs) / 1000 }));
  const recovered = { ctl: new AbortController() };
  const table = new ServiceTable((n) => n);
  table.sync(['web'], () => true);
  const loops = new ConsulLoops(watchContext({} as ConsulHttpClient, { log, metrics, options }), () => recovered.ctl.signal, (s, m) => table.noteError(s, m));
  return { log, errors, recovered, loops, stop: new AbortController() };
}

describe('ConsulLoops', () => {
  it('counts every failed read and says a persistent per-service error once', async () => {
    const { log, errors, loops, stop } = setup();
    const seen: unknown[] = [];
    let calls = 0;
    loops.run(
      'service',
      stop.signal,
      async () => {
        calls++;
        throw new ConsulRequestError('network', 'connect ECONNREFUSED');
      },
      { service: 'web', onError: (err) => void seen.push(err) },
    );
    await until(() => calls >= 3);
    stop.abort();
    await loops.settled();
    expect(errors.length).toBeGreaterThanOrEqual(2);
    expect(errors.every(([loop, kind]) => loop === 'service' && kind === 'network')).toBe(true);
    expect(seen.length).toBe(errors.length);
    expect(log.of('warn')).toEqual([expect.stringMatching(/Consul read failed.*"service":"web".*ECONNREFUSED/)]);
  });

  it('a quiet loop counts its failures without a log line; a plain error counts as network', async () => {
    const { log, errors, loops, stop } = setup();
    let calls = 0;
    loops.run(
      'config',
      stop.signal,
      async () => {
        calls++;
        throw new Error('socket hang up');
      },
      { quiet: true },
    );
    await until(() => calls >= 2);
    stop.abort();
    await loops.settled();
    expect(errors[0]).toEqual(['config', 'network']);
    expect(log.lines).toEqual([]);
  });

  it('the backoff after a failure ends when Consul answers again (recovered)', async () => {
    const { recovered, loops, stop } = setup(600000);
    let calls = 0;
    loops.run('service', stop.signal, async () => {
      calls++;
      if (calls === 1) throw new ConsulRequestError('network', 'connect ECONNREFUSED');
      stop.abort();
    });
    await until(() => calls === 1);
    // without this the loop would sit out up to ten minutes of backoff
    recovered.ctl.abort();
    await until(() => calls === 2);
    await loops.settled();
  });
});
