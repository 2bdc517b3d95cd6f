import { SourceRead } from '@registry-bridge/source-kit';
import { cloudMapAdapter } from '@registry-bridge/registry-cloudmap';
import { consulAdapter } from '@registry-bridge/registry-consul';
import { eurekaAdapter } from '@registry-bridge/registry-eureka';
import { CollectorSource } from './load-configs';

export type Diagnostics = (source: string, message: string) => void;

/**
 * One complete read of a source through its registry's adapter (the collector's own reading
 * code). A failure of one source is reported, never thrown, so the others still count.
 */
export async function readSource(s: CollectorSource, timeoutMs: number, diag: Diagnostics): Promise<SourceRead> {
  const options = { timeoutMs, diagnostics: (message: string) => diag(s.config.name, message) };
  try {
    if (s.kind === 'consul') return await consulAdapter.read(s.config, options);
    if (s.kind === 'eureka') return await eurekaAdapter.read(s.config, options);
    return await cloudMapAdapter.read(s.config, options);
  } catch (err) {
    return { source: s.config.name, kind: s.kind, records: [], complete: false, error: (err as Error).message, unread: [] };
  }
}
