import { RegistryAdapter } from '@registry-bridge/source-kit';
import { createConsulClient } from './consul-client.factory';
import { readConsulSource } from './consul-read';
import { ConsulSourceSettings, toWatchOptions } from './consul-source.schema';
import { consulEmitter, sourceReadiness } from './consul-source-health';
import { ConsulSourceWatcher } from './consul-source.watcher';
import { ConsulWatcherMetrics } from './consul-watch.types';

/** What the collector app adds to a Consul watch. */
export interface ConsulWatchExtras {
  /** A source stays ready this long after its last successful read. */
  readinessGraceSeconds: number;
  /** The app's metrics of the source; `sockets` samples the client's open connections. */
  metrics?: (sockets: () => number) => ConsulWatcherMetrics;
}

/** The Consul registry adapter: read() for one-shot reads, watch() for the collector. */
export const consulAdapter: RegistryAdapter<ConsulSourceSettings, ConsulWatchExtras> = {
  kind: 'consul',
  read: (config, options) => readConsulSource(toWatchOptions(config), options),
  watch: (settings, ctx, extras) => {
    const src = toWatchOptions(settings);
    if (src.tls?.insecureSkipVerify) ctx.log.warn({ source: src.name }, 'TLS certificate verification is OFF (tls.insecureSkipVerify)');
    const client = createConsulClient(src);
    // Every catalog answer reports success (several per second under churn): the status port sends
    // a change at once and the same state once per heartbeat.
    const watcher = new ConsulSourceWatcher(
      src,
      client,
      consulEmitter(src.name, { port: ctx.port, status: ctx.status }),
      { owns: (key) => ctx.coordination.owns(key), snapshotLease: () => ctx.coordination.leaseFor(`snapshot:${src.name}`) },
      ctx.log,
      extras.metrics?.(() => client.openSockets()),
    );
    // A quiet catalog answers once per blocking wait (+ Consul's wait/16 jitter): the grace
    // must outlast that, or readiness would flap at the end of every wait.
    const grace = Math.max(extras.readinessGraceSeconds, Math.ceil((src.watch.waitMs * 17) / 16 / 1000) + 10);
    return {
      start: () => watcher.start(),
      stop: () => watcher.stop(),
      ownershipChanged: () => watcher.ownershipChanged(),
      resendAll: () => watcher.resendAll(),
      readiness: () => sourceReadiness(watcher.status, ctx.status.isReady(src.name, grace)),
    };
  },
};
