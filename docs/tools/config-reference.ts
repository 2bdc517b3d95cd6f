import { z } from 'zod';

/** A JSON Schema node as zod 4 emits it (the parts the reference reads). */
interface Node {
  type?: string | string[];
  properties?: Record<string, Node>;
  additionalProperties?: Node | boolean;
  items?: Node;
  anyOf?: Node[];
  oneOf?: Node[];
  allOf?: Node[];
  enum?: unknown[];
  const?: unknown;
  default?: unknown;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  pattern?: string;
  format?: string;
  required?: string[];
  description?: string;
}

export interface Row {
  key: string;
  type: string;
  required: boolean;
  default: string;
  constraints: string;
}

const SAFE_MAX = Number.MAX_SAFE_INTEGER;

function typeOf(n: Node): string {
  if (n.description?.startsWith('secret:')) return n.description.replace(/\|/g, '\\|');
  const alts = n.anyOf ?? n.oneOf;
  if (alts) return [...new Set(alts.map(typeOf))].join(' \\| ');
  if (n.enum) return n.enum.map((e) => `\`${String(e)}\``).join(' \\| ');
  if (n.const !== undefined) return `\`${String(n.const)}\``;
  if (n.type === 'array') return `list of ${n.items ? typeOf(n.items) : 'any'}`;
  if (n.type === 'object' && n.properties && Object.keys(n.properties).length) {
    const keys = Object.keys(n.properties);
    if (keys.length <= 2 && !n.properties[keys[0]].properties) return `{ ${keys.join(', ')} }`;
    return 'object';
  }
  if (n.type === 'object' && n.additionalProperties && typeof n.additionalProperties === 'object') return `map of ${typeOf(n.additionalProperties)}`;
  if (Array.isArray(n.type)) return n.type.join(' \\| ');
  return n.type ?? 'any';
}

function constraintsOf(n: Node): string {
  const c: string[] = [];
  if (n.minimum !== undefined && n.minimum > -SAFE_MAX) c.push(`≥ ${n.minimum}`);
  if (n.exclusiveMinimum !== undefined) c.push(`> ${n.exclusiveMinimum}`);
  if (n.maximum !== undefined && n.maximum < SAFE_MAX) c.push(`≤ ${n.maximum}`);
  if (n.minLength !== undefined && n.minLength > 0) c.push(`length ≥ ${n.minLength}`);
  if (n.maxLength !== undefined) c.push(`length ≤ ${n.maxLength}`);
  if (n.minItems !== undefined && n.minItems > 0) c.push(`≥ ${n.minItems} items`);
  if (n.maxItems !== undefined) c.push(`≤ ${n.maxItems} items`);
  if (n.pattern) c.push(`pattern \`${n.pattern.replace(/\|/g, '\\|')}\``);
  if (n.format) c.push(n.format);
  return c.join(', ');
}

function fmtDefault(v: unknown): string {
  if (v === undefined) return '';
  const s = JSON.stringify(v);
  return `\`${s.length > 60 ? `${s.slice(0, 57)}...` : s}\``.replace(/\|/g, '\\|');
}

/** Flattens a schema into one row per leaf key (objects recurse, maps and lists recurse into their items). */
export function rows(schema: z.ZodType): Row[] {
  const root = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Node;
  const out: Row[] = [];
  const walk = (n: Node, path: string, required: boolean) => {
    const objectLike = n.type === 'object' && n.properties && Object.keys(n.properties).length > 0;
    if (objectLike) {
      for (const [k, child] of Object.entries(n.properties ?? {})) walk(child, path ? `${path}.${k}` : k, (n.required ?? []).includes(k));
      return;
    }
    if (n.type === 'object' && n.additionalProperties && typeof n.additionalProperties === 'object' && n.additionalProperties.properties) {
      walk(n.additionalProperties, `${path}.<name>`, true);
      return;
    }
    if (n.type === 'array' && n.items?.properties) {
      out.push({ key: path, type: 'list', required, default: fmtDefault(n.default), constraints: constraintsOf(n) });
      walk(n.items, `${path}[]`, true);
      return;
    }
    out.push({ key: path, type: typeOf(n), required: required && n.default === undefined, default: fmtDefault(n.default), constraints: constraintsOf(n) });
  };
  walk(root, '', true);
  return out;
}

export function table(schema: z.ZodType): string {
  const lines = ['| key | type | required | default | constraints |', '| --- | --- | --- | --- | --- |'];
  for (const r of rows(schema)) lines.push(`| \`${r.key}\` | ${r.type} | ${r.required ? 'yes' : ''} | ${r.default} | ${r.constraints} |`);
  return lines.join('\n');
}
