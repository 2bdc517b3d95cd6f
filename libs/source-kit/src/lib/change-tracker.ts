import { ServiceRecordInput, serviceKey } from '@registry-bridge/contract';
import { createHash } from 'node:crypto';

/** The service key `(source, scope, service)` of a record. */
export function recordKey(record: Pick<ServiceRecordInput, 'source' | 'service' | 'scope'>): string {
  return serviceKey({ source: record.source.name, scope: record.scope, service: record.service });
}

const byString = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

function sortedMap<V>(m: Record<string, V> | undefined): Array<[string, V]> {
  return Object.entries(m ?? {}).sort(([a], [b]) => byString(a, b));
}

/** What a content hash covers: a record without `observedAt` and `revision` (they change on every poll). */
export type RecordContent = Omit<ServiceRecordInput, 'revision' | 'observedAt'>;

/**
 * The one content hash of the collectors: a record without `observedAt` and `revision`.
 * Ports, endpoints and every map are put in canonical order first, so a registry that
 * returns the same instances in another order is not a change.
 */
export function contentHash(record: RecordContent): string {
  const ports = record.ports.map((p) => [p.name, p.number, p.protocol ?? null]).map((p) => JSON.stringify(p)).sort(byString);
  const endpoints = record.endpoints
    .map((e) =>
      JSON.stringify([
        e.id,
        e.address,
        sortedMap(e.ports),
        sortedMap(e.labels),
        e.health,
        e.locality ?? null,
        e.weight ?? null,
        e.network ?? null,
        e.serviceAccount ?? null,
      ]),
    )
    .sort(byString);
  const canonical = JSON.stringify([recordKey(record), record.source.kind, record.lineage ?? null, ports, endpoints, sortedMap(record.metadata)]);
  return createHash('sha256').update(canonical).digest('base64url');
}

/**
 * Remembers what was last sent per service key, so an unchanged record costs nothing
 * downstream. `shouldEmit` records the new content; if sending it then fails, call
 * `forget(key)` so the next observation sends it again.
 */
export class ChangeTracker {
  private readonly hashes = new Map<string, string>();

  shouldEmit(record: RecordContent): boolean {
    return this.shouldEmitHash(recordKey(record), contentHash(record));
  }

  /** shouldEmit with the key and content hash already computed. */
  shouldEmitHash(key: string, hash: string): boolean {
    if (this.hashes.get(key) === hash) return false;
    this.hashes.set(key, hash);
    return true;
  }

  forget(key: string): boolean {
    return this.hashes.delete(key);
  }

  keys(): string[] {
    return [...this.hashes.keys()];
  }

  has(key: string): boolean {
    return this.hashes.has(key);
  }

  clear(): void {
    this.hashes.clear();
  }
}
