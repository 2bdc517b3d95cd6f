import { LIMITS } from '@registry-bridge/contract';

const NOT_FOUND = new Set(['ServiceNotFound', 'NamespaceNotFound']);

/** An AWS error name and message (never request details or credentials), cut to the contract's limit. */
export function describeError(err: unknown): string {
  const e = err as { name?: string; message?: string };
  const text = e && typeof e === 'object' ? `${e.name ?? 'Error'}: ${e.message ?? ''}` : String(err);
  return text.slice(0, LIMITS.error);
}

/** The service or its namespace was deleted since the inventory listed it. */
export function isNotFound(err: unknown): boolean {
  return NOT_FOUND.has((err as { name?: string } | undefined)?.name ?? '');
}

/** The registry answered but the record port (the queue) did not take the record: not a registry failure. */
export class SinkError extends Error {
  constructor(override readonly cause: unknown) {
    super('sink failed');
  }
}
