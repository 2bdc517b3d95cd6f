import { RegistryKind } from '@registry-bridge/contract';
import { ReadDiagnostics, SourceRead } from './source-read';
import { SourceWatch, WatchContext } from './source-watch';

export interface ReadOptions {
  /** How long a read may wait for a registry that answers slowly (watch-based reads). */
  timeoutMs: number;
  diagnostics?: ReadDiagnostics;
}

/** A one-shot `read()` of a source's whole view, through the same code the collector watches with. */
export interface RegistryReader<C extends { name: string }> {
  readonly kind: RegistryKind;
  read(config: C, options: ReadOptions): Promise<SourceRead>;
}

/**
 * The one shape of a registry: `read()`, and `watch()` layered on the same reading code.
 * `X`: what the collector app adds to a watch (its metrics, budgets).
 */
export interface RegistryAdapter<C extends { name: string }, X = undefined> extends RegistryReader<C> {
  /** Builds a source's watch; throws when it cannot (a TLS file missing), before anything started. */
  watch(config: C, context: WatchContext, extras: X): SourceWatch;
}
