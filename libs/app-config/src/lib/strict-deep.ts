import { z } from 'zod';

type AnyDef = Record<string, unknown> & { type: string };

/**
 * Makes every plain object inside a schema reject unknown keys, so a typo in a config file is
 * an error instead of a silently ignored setting. Objects that chose a catchall (e.g.
 * `z.looseObject`) keep it. Wrappers (optional, default, arrays, unions, pipes, ...) are
 * rebuilt around the strict inner schema; refinements are kept.
 */
export function strictDeep<S extends z.ZodType>(schema: S): S {
  const def = (schema as unknown as { def: AnyDef }).def;
  const clone = (patch: Record<string, unknown>) => (schema as unknown as { clone(def: unknown): S }).clone({ ...def, ...patch });
  const deep = (s: unknown) => strictDeep(s as z.ZodType);
  switch (def.type) {
    case 'object': {
      const shape = Object.fromEntries(Object.entries(def['shape'] as Record<string, z.ZodType>).map(([k, v]) => [k, deep(v)]));
      return clone({ shape, catchall: def['catchall'] ?? z.never() });
    }
    case 'optional':
    case 'nullable':
    case 'default':
    case 'prefault':
    case 'nonoptional':
    case 'readonly':
    case 'catch':
      return clone({ innerType: deep(def['innerType']) });
    case 'array':
      return clone({ element: deep(def['element']) });
    case 'record':
      return clone({ valueType: deep(def['valueType']) });
    case 'union':
      return clone({ options: (def['options'] as z.ZodType[]).map(deep) });
    case 'intersection':
      return clone({ left: deep(def['left']), right: deep(def['right']) });
    case 'tuple':
      return clone({ items: (def['items'] as z.ZodType[]).map(deep), rest: def['rest'] ? deep(def['rest']) : def['rest'] });
    case 'pipe':
      return clone({ in: deep(def['in']), out: deep(def['out']) });
    default:
      return schema;
  }
}
