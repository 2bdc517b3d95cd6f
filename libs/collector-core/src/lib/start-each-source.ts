import { RegistryKind } from '@registry-bridge/contract';
import { CollectorReadiness } from './collector-readiness';
import type { SourceStatusUpdate } from '@registry-bridge/source-kit';

export interface StartFailureReport {
  readiness: Pick<CollectorReadiness, 'register'>;
  reporter: { report(source: string, update: SourceStatusUpdate): Promise<void> };
  log: { error(message: string): void };
}

/**
 * Starts every source on its own: one that cannot start (a TLS file missing, a bad client
 * setting) is logged, kept not ready with the reason and reported unreachable to the writer
 * (so nothing of it is deleted), and never keeps the other sources from starting.
 * Returns the names of the sources that failed.
 */
export async function startEachSource<S extends { name: string }>(
  kind: RegistryKind,
  sources: readonly S[],
  start: (source: S) => unknown,
  report: StartFailureReport,
): Promise<string[]> {
  const failed: string[] = [];
  await Promise.all(
    sources.map(async (source) => {
      try {
        await start(source);
      } catch (err) {
        const error = (err as Error).message ?? String(err);
        failed.push(source.name);
        report.log.error(`source ${source.name} did not start: ${error}`);
        report.readiness.register(`${kind}:${source.name}`, () => ({ ready: false, detail: `not started: ${error}` }));
        await report.reporter.report(source.name, { reachable: false, error: `not started: ${error}` }).catch(() => undefined);
      }
    }),
  );
  return failed;
}
