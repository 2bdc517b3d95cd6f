import { ConsulRequestError } from './consul-http.client';
import { RecordingLog, ScriptedConsul, watchContext } from './consul-watch.testing';
import { ProtocolEntriesWatch } from './protocol-entries-watch';

function setup() {
  const entries: Record<string, { body: unknown; index: number }> = {
    'service-defaults': { body: [{ Kind: 'service-defaults', Name: 'web', Protocol: 'grpc' }], index: 4 },
    'proxy-defaults': { body: [], index: 4 },
  };
  const consul = new ScriptedConsul((path) => entries[path.slice('/v1/config/'.length)]);
  const log = new RecordingLog();
  const moves: Array<(service: string) => boolean> = [];
  const watch = new ProtocolEntriesWatch(watchContext(consul.client, { log }), (moved) => void moves.push(moved));
  const signal = new AbortController().signal;
  return { entries, consul, log, moves, watch, signal };
}

describe('ProtocolEntriesWatch', () => {
  it('a service takes its service-defaults protocol, else the global proxy-defaults one', async () => {
    const { entries, watch, signal } = setup();
    entries['proxy-defaults'] = { body: [{ Kind: 'proxy-defaults', Name: 'global', Config: { protocol: 'http' } }], index: 4 };
    await watch.read('service-defaults', signal, 0);
    await watch.read('proxy-defaults', signal, 0);
    expect(watch.protocolOf('web')).toBe('grpc');
    expect(watch.protocolOf('api')).toBe('http');
  });

  it('says which services a change moved, and nothing on an unchanged index', async () => {
    const { entries, consul, moves, watch, signal } = setup();
    await watch.read('service-defaults', signal, 0);
    expect(moves).toHaveLength(1);
    await watch.read('service-defaults', signal, 0);
    expect(moves).toHaveLength(1);
    entries['service-defaults'] = { body: [{ Kind: 'service-defaults', Name: 'api', Protocol: 'http' }, { Kind: 'service-defaults', Name: 'web', Protocol: 'grpc' }], index: 5 };
    await watch.read('service-defaults', signal, 0);
    expect(moves).toHaveLength(2);
    expect(['web', 'api', 'db'].filter((s) => moves[1](s))).toEqual(['api']);
    // blocking on the index once read, non-blocking after a failure
    expect(consul.requests.map((r) => r.index)).toEqual([0, 4, 4]);
    await watch.read('service-defaults', signal, 2);
    expect(consul.requests.at(-1)).toMatchObject({ index: 0, timeoutMs: 2000 });
  });

  it('an entry kind it may not read is said once per error, and again readable once', async () => {
    const { log, watch, signal } = setup();
    const denied = new ConsulRequestError('acl', 'Consul refused GET /v1/config/service-defaults (403 Permission denied)', 403);
    watch.failed('service-defaults', denied);
    watch.failed('service-defaults', denied);
    expect(log.of('warn')).toEqual([expect.stringMatching(/config entries not read.*403/)]);
    await watch.read('service-defaults', signal, 1);
    expect(log.of('info')).toEqual([expect.stringMatching(/readable again/)]);
    watch.failed('service-defaults', denied);
    expect(log.of('warn')).toHaveLength(2);
  });
});
