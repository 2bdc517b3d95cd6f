import { RegistryAdapter } from '@registry-bridge/source-kit';
import { CloudMapApiObserver, createCloudMapClient } from './cloudmap-api.client';
import { CloudMapSourceSettings, toSourceOptions } from './cloudmap-config.schema';
import { readCloudMapSource } from './cloudmap-read';
import { CloudMapReader } from './cloudmap-reader.service';
import { CloudMapWatcher } from './cloudmap-watcher.service';
import { cloudMapEmitter, WatcherObserver } from './cloudmap-watcher.ports';
import { RequestBudget } from './request-budget.service';

/** What the collector app adds to a Cloud Map watch. */
export interface CloudMapWatchExtras {
  /** A source stays ready this long after its last successful read. */
  readinessGraceSeconds: number;
  /** The request budget (in Redis, shared by the replicas). */
  budget: RequestBudget;
  observers?: { api: CloudMapApiObserver; watcher: WatcherObserver; stop(): void };
}

/** The Cloud Map registry adapter: read() for one-shot reads, watch() for the collector. */
export const cloudMapAdapter: RegistryAdapter<CloudMapSourceSettings, CloudMapWatchExtras> = {
  kind: 'cloudmap',
  read: (config, options) => readCloudMapSource(toSourceOptions(config), options),
  watch: (settings, ctx, extras) => {
    const src = toSourceOptions(settings);
    const client = createCloudMapClient(src, { budget: extras.budget, observer: extras.observers?.api });
    const watcher = new CloudMapWatcher(src, {
      reader: new CloudMapReader(client, src),
      emitter: cloudMapEmitter(src.name, { port: ctx.port, status: ctx.status }),
      statusHeartbeats: true,
      coordination: ctx.coordination,
      observer: extras.observers?.watcher,
      log: (level, message, fields = {}) => (level === 'warn' ? ctx.log.warn(fields, message) : ctx.log.info(fields, message)),
    });
    ctx.log.info({ source: src.name, region: src.region, endpoint: src.endpoint, assumeRole: src.assumeRole?.roleArn }, 'watching Cloud Map source');
    return {
      start: () => watcher.start(),
      stop: async () => {
        await watcher.stop();
        extras.observers?.stop();
        client.destroy();
      },
      ownershipChanged: () => watcher.ownershipChanged(),
      resendAll: () => watcher.resendAll(),
      readiness: () => {
        const health = watcher.sourceHealth();
        const ready = health.reachable && ctx.status.isReady(src.name, extras.readinessGraceSeconds);
        return { ready, detail: ready ? undefined : (health.error ?? 'no complete inventory yet') };
      },
    };
  },
};
