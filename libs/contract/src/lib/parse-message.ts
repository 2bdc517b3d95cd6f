import { z } from 'zod';
import { CONTRACT_VERSION, Message, messageSchema } from './record.schema';

export type ParseResult = { ok: true; message: Message } | { ok: false; reason: string };

/** Renders zod issues as `path: message` so a dead letter names the culprit field. */
export function describeIssues(error: z.ZodError, max = 5): string {
  const parts = error.issues.slice(0, max).map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`);
  if (error.issues.length > max) parts.push(`... ${error.issues.length - max} more`);
  return parts.join('; ');
}

/** Validates an untrusted queue payload. Never throws. */
export function parseMessage(data: unknown): ParseResult {
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    return { ok: false, reason: 'message is not an object' };
  }
  const v = (data as { v?: unknown }).v;
  if (v !== CONTRACT_VERSION) {
    return { ok: false, reason: `unsupported contract version ${JSON.stringify(v ?? null)} (this writer speaks v${CONTRACT_VERSION})` };
  }
  const result = messageSchema.safeParse(data);
  if (!result.success) {
    return { ok: false, reason: `invalid ${String((data as { type?: unknown }).type ?? 'message')}: ${describeIssues(result.error)}` };
  }
  return { ok: true, message: result.data };
}
