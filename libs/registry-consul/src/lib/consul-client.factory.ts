import { loadSourceTls } from '@registry-bridge/source-kit';
import { ConsulHttpClient } from './consul-http.client';
import { ConsulSourceConfig } from './consul-source.schema';

/** Sockets beyond the blocking pool: the catalog watch, the health-state watch, the short polls, and the two config-entry watches. */
export function socketBudget(cfg: ConsulSourceConfig): number {
  return cfg.watch.maxBlockingWatches + 2 + cfg.watch.pollConcurrency + 1 + (cfg.normalize.protocolFromConfigEntries ? 2 : 0);
}

/** Builds the bounded HTTP client of one source (TLS files read once, at start; a missing one throws SourceTlsError). */
export function createConsulClient(cfg: ConsulSourceConfig): ConsulHttpClient {
  return new ConsulHttpClient({
    address: cfg.address,
    token: cfg.token ? () => cfg.token : undefined,
    tls: loadSourceTls(cfg.name, cfg.tls),
    datacenter: cfg.datacenter,
    namespace: cfg.namespace,
    partition: cfg.partition,
    consistency: cfg.watch.consistency,
    maxSockets: socketBudget(cfg),
    requestTimeoutMs: cfg.watch.requestTimeoutMs,
  });
}
