// Finding the part of the zod schema that describes a given document path, so messages can
// list the keys allowed at that level and hints can quote the field's own documentation.
import * as z from 'zod';
import type { Path } from './problem.js';

// zod 4 exposes a schema's definition as `_zod.def`; only these fields are read here.
interface Def {
  type: string;
  shape?: Record<string, z.ZodType>;
  innerType?: z.ZodType;
  element?: z.ZodType;
  valueType?: z.ZodType;
  options?: z.ZodType[];
  in?: z.ZodType;
}

function defOf(schema: z.ZodType): Def {
  return (schema as unknown as { _zod: { def: Def } })._zod.def;
}

/** The wrapped schema for optional/default/nullable/pipe wrappers; itself otherwise. */
function unwrapOnce(schema: z.ZodType): z.ZodType | undefined {
  const def = defOf(schema);
  return def.innerType ?? def.in;
}

/** Every schema from the outermost wrapper to the core type, e.g. default → optional → string. */
function layers(schema: z.ZodType): z.ZodType[] {
  const out = [schema];
  for (let next = unwrapOnce(schema); next; next = unwrapOnce(next)) out.push(next);
  return out;
}

function core(schema: z.ZodType): z.ZodType {
  return layers(schema).at(-1)!;
}

function child(schema: z.ZodType, segment: string | number): z.ZodType[] {
  const def = defOf(core(schema));
  switch (def.type) {
    case 'object':
      return typeof segment === 'string' && def.shape && segment in def.shape ? [def.shape[segment]!] : [];
    case 'array':
      return typeof segment === 'number' && def.element ? [def.element] : [];
    case 'record':
      return def.valueType ? [def.valueType] : [];
    case 'union':
      return (def.options ?? []).flatMap((option) => child(option, segment));
    default:
      return [];
  }
}

/** The schemas that may describe the value at path (several when a union allows several shapes). */
export function schemasAt(root: z.ZodType, path: Path): z.ZodType[] {
  let current = [root];
  for (const segment of path) current = current.flatMap((schema) => child(schema, segment));
  return current;
}

/** The keys an object at path may have, in schema order. */
export function allowedKeysAt(root: z.ZodType, path: Path): string[] {
  const keys = new Set<string>();
  const collect = (schema: z.ZodType): void => {
    const def = defOf(core(schema));
    if (def.type === 'object') Object.keys(def.shape ?? {}).forEach((k) => keys.add(k));
    if (def.type === 'union') (def.options ?? []).forEach(collect);
  };
  schemasAt(root, path).forEach(collect);
  return [...keys];
}

export interface FieldDoc {
  description?: string;
  example?: unknown;
}

/** The description and first example registered with .meta() on the field at path. */
export function fieldDocAt(root: z.ZodType, path: Path): FieldDoc {
  for (const schema of schemasAt(root, path)) {
    for (const layer of layers(schema)) {
      const meta = z.globalRegistry.get(layer);
      if (!meta?.description) continue;
      const examples: unknown = meta.examples;
      return { description: meta.description, example: Array.isArray(examples) ? examples[0] : undefined };
    }
  }
  return {};
}
