import { ServiceRef } from './record.schema';

/** `(source, scope, service)`: the unit of ordering, coalescing and ownership. */
export interface ServiceKeyParts {
  source: string;
  scope?: string;
  service: string;
}

/** Unambiguous string form: each part URI-encoded, joined by `/` (so `/` inside a name cannot collide). */
export function serviceKey(parts: ServiceKeyParts): string {
  return [parts.source, parts.scope ?? '', parts.service].map(encodeURIComponent).join('/');
}

export function parseServiceKey(key: string): ServiceKeyParts {
  const pieces = key.split('/');
  if (pieces.length !== 3 || !pieces[0] || !pieces[2]) throw new Error(`malformed service key "${key}"`);
  const [source, scope, service] = pieces.map(decodeURIComponent);
  return scope ? { source, scope, service } : { source, service };
}

export function serviceRefKey(source: string, ref: ServiceRef): string {
  return serviceKey({ source, scope: ref.scope, service: ref.service });
}
