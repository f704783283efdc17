// Turning zod issues into problems a user can act on: missing and unknown keys (with "did you
// mean"), wrong types (with what YAML made of the text), values outside a set, and the
// schema's own messages for formats and ranges, each with a hint taken from the field's docs.
import { stringify } from 'yaml';
import type * as z from 'zod';
import { clip, formatPath, quote, showValue, type Path, type Problem } from './problem.js';
import { allowedKeysAt, fieldDocAt, schemasAt } from './schema-walk.js';
import { didYouMean } from './suggest.js';

export interface IssueContext {
  /** The schema the issues came from. */
  root: z.ZodType;
  /** The value that was validated. */
  input: unknown;
  /** The text the user wrote for the scalar at path, when there is one. */
  sourceAt: (path: Path) => string | undefined;
}

type Issue = z.core.$ZodIssue;

export function problemsFromIssues(issues: readonly Issue[], context: IssueContext): Problem[] {
  return issues.flatMap((issue) => convert(issue, [], context));
}

function convert(issue: Issue, prefix: Path, context: IssueContext): Problem[] {
  const path: Path = [...prefix, ...issue.path.map((s) => (typeof s === 'symbol' ? String(s) : s))];
  switch (issue.code) {
    case 'invalid_union':
      return fromUnion(issue, path, context);
    case 'invalid_type':
      return [fromInvalidType(issue, path, context)];
    case 'unrecognized_keys':
      return issue.keys.map((key) => fromUnknownKey(key, path, context));
    case 'invalid_value':
      return [fromInvalidValue(issue, path, context)];
    case 'invalid_key': {
      const parent = path.slice(0, -1);
      const detail = issue.issues[0]?.message ?? issue.message;
      return [{ path, at: 'key', message: `${formatPath(parent)}: ${detail}`, hint: docHint(context, parent) }];
    }
    default:
      return [{ path, message: `${formatPath(path)}: ${issue.message}`, hint: docHint(context, path) }];
  }
}

// When the value has the shape of exactly one of a union's options (an object for a bundle given
// as {url, sha256}), that option's own issues say far more than "matches none of the options".
function fromUnion(issue: z.core.$ZodIssueInvalidUnion, path: Path, context: IssueContext): Problem[] {
  if (path.length > 0 && !lookup(context.input, path).exists) {
    // A required key of union type (a bundle) that is not there at all.
    const parent = path.slice(0, -1);
    return [{ path: parent, at: 'key', message: `${formatPath(parent)}: missing required key "${String(path.at(-1))}"`, hint: docHint(context, path) }];
  }
  const isWrongShape = (branch: Issue[]) =>
    branch.length === 1 && branch[0]!.code === 'invalid_type' && branch[0]!.path.length === 0;
  const plausible = issue.errors.filter((branch) => !isWrongShape(branch));
  if (plausible.length === 1) return plausible[0]!.flatMap((inner) => convert(inner, path, context));
  return [{ path, message: `${formatPath(path)}: ${issue.message}`, hint: docHint(context, path) }];
}

const EXPECTED: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  object: 'a mapping (key: value lines)',
  record: 'a mapping (key: value lines)',
  array: 'a list',
};

function describeActual(value: unknown): string {
  if (typeof value === 'string') return `the string ${quote(value)}`;
  if (typeof value === 'number') return `the number ${value}`;
  if (typeof value === 'boolean') return `the boolean ${value}`;
  return showValue(value);
}

function fromInvalidType(issue: z.core.$ZodIssueInvalidType, path: Path, context: IssueContext): Problem {
  const found = lookup(context.input, path);
  const expected = EXPECTED[issue.expected] ?? issue.expected;
  const field = formatPath(path);
  if (!found.exists) {
    const parent = path.slice(0, -1);
    const key = String(path.at(-1));
    return {
      path: parent,
      at: 'key',
      message: `${formatPath(parent)}: missing required key "${key}"`,
      hint: docHint(context, path),
    };
  }
  const value = found.value;
  if (value === null) {
    return {
      path,
      message: `${field}: is empty; expected ${expected}`,
      hint: `fill it in or remove the key. ${docHint(context, path)}`,
    };
  }
  let hint = docHint(context, path);
  if (issue.expected === 'string' && (typeof value === 'number' || typeof value === 'boolean')) {
    // Quoting helps only when the text as written is what the field wants ("true" as a label
    // value); a duration without a unit stays wrong in quotes, and the field's docs say why.
    const written = context.sourceAt(path) ?? String(value);
    if (schemasAt(context.root, path).some((schema) => schema.safeParse(written).success)) {
      hint = `YAML reads ${clip(written)} as ${describeActual(value)}; put it in quotes: ${quote(written)}`;
    }
  }
  const written = context.sourceAt(path);
  const reading = written !== undefined && written !== String(value) ? ` (YAML's reading of ${clip(written)})` : '';
  return { path, message: `${field}: expected ${expected}, got ${describeActual(value)}${reading}`, hint };
}

const SECRET_KEY = /pass(word|phrase)|secret|token/i;

function fromUnknownKey(key: string, objectPath: Path, context: IssueContext): Problem {
  const allowed = allowedKeysAt(context.root, objectPath);
  // "password: …" most likely meant the field that names the variable holding it.
  const suggestion = allowed.includes(`${key}Env`) ? `${key}Env` : didYouMean(key, allowed);
  const where = objectPath.length === 0 ? 'unknown top-level key' : `${formatPath(objectPath)}: unknown key`;
  const hint =
    SECRET_KEY.test(key) && !key.endsWith('Env')
      ? `secrets are never written in the inventory: put the value in an environment variable and give its name${
          suggestion?.endsWith('Env') ? ` with ${suggestion}` : ''
        }`
      : `keys allowed here: ${allowed.join(', ')}`;
  return {
    path: [...objectPath, key],
    at: 'key',
    message: `${where} ${quote(key)}${suggestion ? ` (did you mean "${suggestion}"?)` : ''}`,
    hint,
  };
}

function fromInvalidValue(issue: z.core.$ZodIssueInvalidValue, path: Path, context: IssueContext): Problem {
  const found = lookup(context.input, path);
  const choices = issue.values.map(String);
  const suggestion = typeof found.value === 'string' ? didYouMean(found.value, choices) : undefined;
  return {
    path,
    message: `${formatPath(path)}: ${showValue(found.value)} is not one of ${choices.join(', ')}${
      suggestion ? ` (did you mean "${suggestion}"?)` : ''
    }`,
    hint: docHint(context, path),
  };
}

const GENERAL_HINT = 'inventory.example.yaml shows every field with its meaning';

/** "port: SSH port on the host. Example: port: 2222", from the field's .meta(). */
function docHint(context: IssueContext, path: Path): string {
  const { description, example } = fieldDocAt(context.root, path);
  if (!description) return GENERAL_HINT;
  const key = [...path].reverse().find((s): s is string => typeof s === 'string') ?? 'inventory';
  if (example === undefined) return `${key}: ${description}`;
  const exampleText = stringify(example, { collectionStyle: 'flow', lineWidth: 0 }).trim();
  return `${key}: ${description} Example: ${key}: ${exampleText}`;
}

function lookup(root: unknown, path: Path): { exists: boolean; value?: unknown } {
  let current: unknown = root;
  for (const segment of path) {
    if (current === null || typeof current !== 'object' || !Object.hasOwn(current, segment)) return { exists: false };
    current = (current as Record<string | number, unknown>)[segment];
  }
  return { exists: true, value: current };
}
