import { parseServiceKey } from '@registry-bridge/contract';
import { ReadCapture, ReadDiagnostics, SourceRead } from '@registry-bridge/source-kit';
import { createConsulClient } from './consul-client.factory';
import { ConsulSourceConfig } from './consul-source.schema';
import { consulEmitter } from './consul-source-health';
import { ConsulSourceWatcher } from './consul-source.watcher';

/**
 * One complete read of a Consul source through the collector's own watcher: it owns every service
 * and holds the snapshot lease, so it lists the catalog and reads every service once. Done when
 * every listed service was read (or left out as proxy-only), when Consul is unreachable before a
 * listing, or at the timeout.
 */
export async function readConsulSource(cfg: ConsulSourceConfig, options: { timeoutMs: number; diagnostics?: ReadDiagnostics }): Promise<SourceRead> {
  const { timeoutMs, diagnostics = () => undefined } = options;
  let finish = (): void => undefined;
  const finished = new Promise<void>((resolve) => (finish = resolve));
  // Called on the captured messages and the watcher's progress, both only after start().
  const check = (): void => {
    const status = capture.status;
    // Unreachable before the first listing: a one-shot read stops here instead of retrying.
    if (status && !status.reachable && !capture.listing) return finish();
    if (capture.listing && watcher.readProgress().pending.length === 0) finish();
  };
  const capture = new ReadCapture(cfg.name, 'consul', check);
  const say = (o: object, msg: string) => {
    const err = (o as { err?: string }).err;
    diagnostics(`${msg}${err ? `: ${err}` : ''}`);
  };
  const watcher = new ConsulSourceWatcher(
    cfg,
    createConsulClient(cfg),
    consulEmitter(cfg.name, { port: capture.port }),
    { owns: () => true, snapshotLease: async () => true },
    { info: () => undefined, warn: say, error: say },
  );
  watcher.onProgress = check;
  let timer: NodeJS.Timeout | undefined;
  try {
    await watcher.start();
    await Promise.race([finished, new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
  } finally {
    clearTimeout(timer);
    await watcher.stop();
  }
  const { excluded, errors } = watcher.readProgress();
  // Services whose instances are all Connect proxies are not workloads: never sent, not listed.
  const left = new Set(excluded);
  if (capture.listing) capture.listing.keys = capture.listing.keys.filter((k) => !left.has(parseServiceKey(k).service));
  const status = capture.status;
  const error = status && !status.reachable && !capture.listing ? (status.error ?? 'Consul unreachable') : capture.listing ? undefined : `no catalog listing within ${timeoutMs / 1000}s`;
  return capture.result((key) => errors.get(parseServiceKey(key).service) ?? `not read within ${timeoutMs / 1000}s`, error);
}
