import { KubeConfig } from '@kubernetes/client-node';
import { reuseConnections } from './reuse-connections';

type Factory = { createAgent(cluster: unknown, options: Record<string, unknown>): { options: { keepAlive?: boolean }; destroy(): void } };

function config(server = 'https://127.0.0.1:6443'): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server, skipTLSVerify: false }],
    users: [{ name: 'u', token: 'not-a-real-token' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  return kc;
}

describe('reuseConnections', () => {
  it('hands out one keep-alive agent while the TLS material stays the same', () => {
    const kc = config();
    const f = reuseConnections(kc) as unknown as Factory;
    const cluster = kc.getCurrentCluster();
    const a = f.createAgent(cluster, { ca: Buffer.from('ca-1'), rejectUnauthorized: undefined });
    const b = f.createAgent(cluster, { ca: Buffer.from('ca-1') });
    expect(b).toBe(a);
    expect(a.options.keepAlive).toBe(true);
  });

  it('makes a new agent when the certificate or server name changes', () => {
    const kc = config();
    const f = reuseConnections(kc) as unknown as Factory;
    const cluster = kc.getCurrentCluster();
    const a = f.createAgent(cluster, { ca: Buffer.from('ca-1'), cert: Buffer.from('cert-1') });
    expect(f.createAgent(cluster, { ca: Buffer.from('ca-1'), cert: Buffer.from('cert-2') })).not.toBe(a);
    expect(f.createAgent(cluster, { ca: Buffer.from('ca-1'), cert: Buffer.from('cert-1'), servername: 'kube' })).not.toBe(a);
  });

  it('keeps a bounded number of agents and destroys the ones it drops', () => {
    const kc = config();
    const f = reuseConnections(kc) as unknown as Factory;
    const cluster = kc.getCurrentCluster();
    const first = f.createAgent(cluster, { cert: 'rotation-0' });
    const destroy = jest.spyOn(first, 'destroy');
    for (let i = 1; i <= 4; i++) f.createAgent(cluster, { cert: `rotation-${i}` });
    expect(destroy).toHaveBeenCalledTimes(1);
    expect(f.createAgent(cluster, { cert: 'rotation-0' })).not.toBe(first);
  });
});
