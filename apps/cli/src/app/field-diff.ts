import { canonicalJson } from '@registry-bridge/translation';

/** One differing leaf between the live and the desired object; `undefined` means "not set". */
export interface FieldChange {
  path: string;
  old: unknown;
  new: unknown;
}

const PLAIN_KEY = /^[A-Za-z_$][\w$-]*$/;

function child(path: string, key: string): string {
  if (PLAIN_KEY.test(key)) return path ? `${path}.${key}` : key;
  // Label and annotation keys hold dots and slashes: quote them so the path stays readable.
  return `${path}[${JSON.stringify(key)}]`;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Field-level diff of two JSON values: objects by key (sorted), arrays by index, so a changed
 * endpoint reads `spec.endpoints[1].address: 10.0.0.2 → 10.0.0.3`. Equal subtrees (compared as
 * canonical JSON, key order ignored) produce nothing.
 */
export function fieldDiff(oldValue: unknown, newValue: unknown, path = ''): FieldChange[] {
  if (canonicalJson(oldValue ?? null) === canonicalJson(newValue ?? null)) return [];
  if (isObject(oldValue) && isObject(newValue)) {
    const keys = [...new Set([...Object.keys(oldValue), ...Object.keys(newValue)])].sort();
    return keys.flatMap((k) => fieldDiff(oldValue[k], newValue[k], child(path, k)));
  }
  if (Array.isArray(oldValue) && Array.isArray(newValue)) {
    const out: FieldChange[] = [];
    for (let i = 0; i < Math.max(oldValue.length, newValue.length); i++) out.push(...fieldDiff(oldValue[i], newValue[i], `${path}[${i}]`));
    return out;
  }
  return [{ path: path || '(root)', old: oldValue, new: newValue }];
}

/** Renders a leaf value on one line: strings bare, everything else as compact JSON. */
export function formatValue(v: unknown): string {
  if (v === undefined) return '(unset)';
  if (typeof v === 'string') return v;
  return canonicalJson(v);
}
