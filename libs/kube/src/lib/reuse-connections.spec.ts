import { KubeConfig } from '@kubernetes/client-node';
import { reuseConnections } from './reuse-connections';

type Dispatcher = { close(): Promise<void>; closed: boolean };
type Factory = { createDispatcher(cluster: unknown, options: Record<string, unknown>): Dispatcher | undefined };

function config(server = 'https://127.0.0.1:6443', skipTLSVerify = false): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server, skipTLSVerify }],
    users: [{ name: 'u', token: 'not-a-real-token' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  return kc;
}

describe('reuseConnections', () => {
  it('hands out one dispatcher while the TLS material stays the same', () => {
    const kc = config();
    const f = reuseConnections(kc) as unknown as Factory;
    const cluster = kc.getCurrentCluster();
    const a = f.createDispatcher(cluster, { ca: Buffer.from('ca-1'), rejectUnauthorized: undefined });
    expect(a).toBeDefined();
    expect(f.createDispatcher(cluster, { ca: Buffer.from('ca-1') })).toBe(a);
  });

  it('makes a new dispatcher when the certificate or server name changes', () => {
    const kc = config();
    const f = reuseConnections(kc) as unknown as Factory;
    const cluster = kc.getCurrentCluster();
    const a = f.createDispatcher(cluster, { ca: Buffer.from('ca-1'), cert: Buffer.from('cert-1') });
    expect(f.createDispatcher(cluster, { ca: Buffer.from('ca-1'), cert: Buffer.from('cert-2') })).not.toBe(a);
    expect(f.createDispatcher(cluster, { ca: Buffer.from('ca-1'), cert: Buffer.from('cert-1'), servername: 'kube' })).not.toBe(a);
  });

  it('keeps a bounded number of dispatchers and closes the ones it drops', () => {
    const kc = config();
    const f = reuseConnections(kc) as unknown as Factory;
    const cluster = kc.getCurrentCluster();
    const first = f.createDispatcher(cluster, { cert: 'rotation-0' }) as Dispatcher;
    const kept = [1, 2, 3, 4].map((i) => f.createDispatcher(cluster, { cert: `rotation-${i}` }) as Dispatcher);
    expect(first.closed).toBe(true);
    expect(kept.map((d) => d.closed)).toEqual([false, false, false, false]);
    expect(f.createDispatcher(cluster, { cert: 'rotation-4' })).toBe(kept[3]);
    expect(f.createDispatcher(cluster, { cert: 'rotation-0' })).not.toBe(first);
  });

  it('leaves a cluster without TLS options on the library default (no dispatcher)', () => {
    const kc = config('http://127.0.0.1:8080', true);
    const f = reuseConnections(kc) as unknown as Factory;
    expect(f.createDispatcher(kc.getCurrentCluster(), {})).toBeUndefined();
  });
});
