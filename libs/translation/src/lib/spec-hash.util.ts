import { shortHash } from './names';
import { ANNOTATIONS } from './ownership';

type Hashable = { metadata: { labels: Record<string, string>; annotations: Record<string, string> }; spec: unknown };

/** Canonical JSON (sorted keys) so the same content always hashes the same. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

/** Hash over what we set on an object (labels, annotations except the hash, spec). */
export function specHash(obj: Hashable): string {
  const annotations = { ...obj.metadata.annotations };
  delete annotations[ANNOTATIONS.specHash];
  return shortHash(canonicalJson({ labels: obj.metadata.labels, annotations, spec: obj.spec }), 16);
}

/** The object with its spec-hash annotation set (no-op detection compares it). */
export function withHash<T extends Hashable>(obj: T): T {
  obj.metadata.annotations[ANNOTATIONS.specHash] = specHash(obj);
  return obj;
}
