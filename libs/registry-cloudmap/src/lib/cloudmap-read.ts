import { ReadCapture, ReadDiagnostics, SourceRead } from '@registry-bridge/source-kit';
import { createCloudMapClient } from './cloudmap-api.client';
import type { CloudMapSourceConfig } from './cloudmap-config.schema';
import { CloudMapReader } from './cloudmap-reader.service';
import { describeError } from './cloudmap-errors.util';
import { CloudMapWatcher } from './cloudmap-watcher.service';
import { cloudMapEmitter, NOOP_WATCHER_OBSERVER, SINGLE_REPLICA } from './cloudmap-watcher.ports';
import { LocalRequestBudget } from './request-budget.service';

/**
 * One inventory and one poll cycle of a Cloud Map source through the collector's own watcher, with
 * the in-process request budget (the Redis one is only needed to share a budget between replicas).
 */
export async function readCloudMapSource(cfg: CloudMapSourceConfig, options: { diagnostics?: ReadDiagnostics } = {}): Promise<SourceRead> {
  const diagnostics = options.diagnostics ?? (() => undefined);
  const capture = new ReadCapture(cfg.name, 'cloudmap');
  const client = createCloudMapClient(cfg, { budget: new LocalRequestBudget(cfg) });
  let lastPollError: string | undefined;
  const watcher = new CloudMapWatcher(cfg, {
    reader: new CloudMapReader(client, cfg),
    emitter: cloudMapEmitter(cfg.name, { port: capture.port }),
    coordination: SINGLE_REPLICA,
    observer: {
      ...NOOP_WATCHER_OBSERVER,
      onError: (phase, err) => {
        if (phase === 'poll') lastPollError = describeError(err);
      },
    },
    log: (level, message, fields) => {
      if (level === 'warn') diagnostics(`${message}${fields?.['error'] ? `: ${String(fields['error'])}` : ''}`);
    },
  });
  try {
    const listed = await watcher.runInventory();
    if (!listed) return capture.result(() => 'not read', watcher.sourceHealth().error ?? 'Cloud Map inventory failed');
    await watcher.runPollCycle();
    return capture.result(() => lastPollError ?? 'not read (deleted since the listing?)');
  } finally {
    client.destroy();
  }
}
