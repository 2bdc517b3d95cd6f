import { RegistryKind } from '@registry-bridge/contract';
import { ReadDiagnostics, SourceRead } from './source-read';

export interface ReadOptions {
  /** How long a read may wait for a registry that answers slowly (watch-based reads). */
  timeoutMs: number;
  diagnostics?: ReadDiagnostics;
}

/**
 * The one shape of a registry: a one-shot `read()` of a source's whole view, through the same code
 * the collector watches with. The CLI, the tests and the collectors' start-up use it alike.
 */
export interface RegistryAdapter<C extends { name: string }> {
  readonly kind: RegistryKind;
  read(config: C, options: ReadOptions): Promise<SourceRead>;
}
