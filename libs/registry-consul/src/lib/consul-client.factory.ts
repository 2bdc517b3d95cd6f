import { readFileSync } from 'node:fs';
import { ConsulHttpClient } from './consul-http.client';
import { ConsulSourceConfig } from './consul-source.schema';

/** Sockets beyond the blocking pool: the catalog watch, the health-state watch, the short polls, and the two config-entry watches. */
export function socketBudget(cfg: ConsulSourceConfig): number {
  return cfg.watch.maxBlockingWatches + 2 + cfg.watch.pollConcurrency + 1 + (cfg.normalize.protocolFromConfigEntries ? 2 : 0);
}

/** Builds the bounded HTTP client of one source (TLS files read once, at start). */
export function createConsulClient(cfg: ConsulSourceConfig): ConsulHttpClient {
  const t = cfg.tls;
  const read = (f?: string): Buffer | undefined => (f ? readFileSync(f) : undefined);
  return new ConsulHttpClient({
    address: cfg.address,
    token: cfg.token ? () => cfg.token : undefined,
    tls: t ? { ca: read(t.caFile), cert: read(t.certFile), key: read(t.keyFile), servername: t.serverName, rejectUnauthorized: !t.insecureSkipVerify } : undefined,
    datacenter: cfg.datacenter,
    namespace: cfg.namespace,
    partition: cfg.partition,
    consistency: cfg.watch.consistency,
    maxSockets: socketBudget(cfg),
    requestTimeoutMs: cfg.watch.requestTimeoutMs,
  });
}
