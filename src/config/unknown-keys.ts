/**
 * Keys a config source sets that the schema does not know — typos such as
 * `alowed_origins`, camelCase such as `allowedOrigins`, `app` for `apps` —
 * each with the nearest known key. The known keys are read from the zod
 * schema itself (schema.ts), so there is no second list to keep in step.
 */
import type { z } from 'zod';

/** The parts of zod's internal definition the walk reads. */
interface Definition {
  readonly type: string;
  readonly shape?: Record<string, z.ZodType>;
  readonly innerType?: z.ZodType;
  readonly out?: z.ZodType;
  readonly element?: z.ZodType;
}

function definition(schema: z.ZodType): Definition {
  return (schema as unknown as { _zod: { def: Definition } })._zod.def;
}

/** The schema under defaults, optional/nullable wrappers and preprocessing. */
function unwrap(schema: z.ZodType): Definition {
  let def = definition(schema);
  for (;;) {
    const inner = def.innerType ?? (def.type === 'pipe' ? def.out : undefined);
    if (!inner) return def;
    def = definition(inner);
  }
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length]!;
}

/** The known key a mistyped one most likely meant, if any is close enough. */
export function nearestKey(key: string, known: readonly string[]): string | undefined {
  const snake = key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').replace(/-/g, '_').toLowerCase();
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of known) {
    const distance = Math.min(editDistance(key, candidate), editDistance(snake, candidate));
    if (distance < bestDistance) [best, bestDistance] = [candidate, distance];
  }
  return bestDistance <= Math.max(2, Math.floor(key.length / 3)) ? best : undefined;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** One line per unknown key of `raw`, e.g. `apps.apps[0].alowed_origins (did you mean allowed_origins?)`. */
export function unknownKeys(raw: unknown, schema: z.ZodType, path = ''): string[] {
  const def = unwrap(schema);
  if (def.type === 'array' && def.element && Array.isArray(raw)) {
    return raw.flatMap((item, index) => unknownKeys(item, def.element!, `${path}[${index}]`));
  }
  if (def.type !== 'object' || !def.shape || !isPlainObject(raw)) return [];
  const known = Object.keys(def.shape);
  return Object.entries(raw).flatMap(([key, value]) => {
    const where = path ? `${path}.${key}` : key;
    const inner = def.shape![key];
    if (inner) return unknownKeys(value, inner, where);
    const suggestion = nearestKey(key, known);
    return [`${where}${suggestion ? ` (did you mean ${suggestion}?)` : ` (known keys here: ${known.join(', ')})`}`];
  });
}
