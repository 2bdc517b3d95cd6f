import type { Cluster, KubeConfig } from '@kubernetes/client-node';
import { createHash } from 'node:crypto';

/** Dispatchers kept per KubeConfig; more distinct TLS identities than this means rotation, and the oldest go. */
const MAX_DISPATCHERS = 4;

type AgentOptions = Parameters<KubeConfig['createDispatcherOptions']>[1];
/** The part of an undici Dispatcher used here (undici is client-node's dependency, not ours). */
interface Dispatcher {
  close(): Promise<void>;
}
type DispatcherFactory = (cluster: Cluster | null, options: AgentOptions) => Dispatcher | undefined;

function fingerprint(cluster: Cluster | null, described: object): string {
  const h = createHash('sha256').update(`${cluster?.server ?? ''}\0`);
  // Buffers (CA, certificate, key) serialize as their bytes, so rotated material changes the key.
  h.update(JSON.stringify(described, (_key, value: unknown) => (value === undefined ? null : value)));
  return h.digest('hex');
}

/**
 * @kubernetes/client-node 2.0.1 builds a new undici Agent for every API request that carries TLS
 * options (a CA, a client certificate: every real cluster), so each call pays a fresh TCP + TLS
 * handshake; only its Watch/WebSocket agents are cached. This makes the KubeConfig hand out one
 * keep-alive dispatcher per distinct TLS material, as described by the library's own public
 * `createDispatcherOptions`, so rotated credentials still get a new one and the old one is closed.
 * The int spec "reuses its connections" shows whether a later client-node makes this unnecessary.
 */
export function reuseConnections(kc: KubeConfig): KubeConfig {
  const target = kc as unknown as { createDispatcher: DispatcherFactory };
  const create = target.createDispatcher.bind(kc);
  const dispatchers = new Map<string, Dispatcher | undefined>();
  target.createDispatcher = (cluster, options) => {
    const key = fingerprint(cluster, kc.createDispatcherOptions(cluster, options));
    if (dispatchers.has(key)) return dispatchers.get(key);
    const dispatcher = create(cluster, options);
    dispatchers.set(key, dispatcher);
    for (const [old, d] of dispatchers) {
      if (dispatchers.size <= MAX_DISPATCHERS) break;
      dispatchers.delete(old);
      // close() lets requests in flight on it finish.
      void d?.close().catch(() => undefined);
    }
    return dispatcher;
  };
  return kc;
}
