import { ReadCapture, ReadDiagnostics, SourceRead } from '@registry-bridge/source-kit';
import { EurekaRestClient } from './eureka-rest.client';
import { EurekaSourceConfig, toClientOptions, toSyncOptions } from './eureka-source.schema';
import { EurekaSourceSyncer } from './eureka-source.syncer';

/** One full fetch of a Eureka source through the collector's own syncer (its first round is always a full fetch). */
export async function readEurekaSource(cfg: EurekaSourceConfig, options: { diagnostics?: ReadDiagnostics } = {}): Promise<SourceRead> {
  const diagnostics = options.diagnostics ?? (() => undefined);
  const capture = new ReadCapture(cfg.name, 'eureka');
  const client = new EurekaRestClient(toClientOptions(cfg));
  const syncer = new EurekaSourceSyncer(client, capture.port, toSyncOptions(cfg), {}, {
    debug: () => undefined,
    info: () => undefined,
    warn: (o, msg) => diagnostics(`${msg}${(o as { err?: string }).err ? `: ${(o as { err?: string }).err}` : ''}`),
  });
  try {
    const result = await syncer.syncOnce();
    const notes: string[] = [];
    if (capture.status?.conditions?.['selfPreservation'] === true) notes.push('Eureka is in self-preservation: instances are not expired and may be listed UP while dead');
    const error = result ? undefined : (capture.status?.error ?? 'Eureka fetch failed');
    return capture.result(() => 'not read', error, notes);
  } finally {
    client.close();
  }
}
