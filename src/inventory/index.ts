// Loading an inventory: read → YAML with positions → schema and cross-field checks → resolve.
// Every problem of a stage is reported together as InputErrors, each at FILE:LINE:COL with
// FILE as the caller gave it. Later stages run only once earlier ones are clean, because their
// input would not mean anything otherwise. Never opens an SSH connection.
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { InputError, InputErrors } from '../errors.js';
import type { Cluster } from '../model.js';
import { runChecks } from './checks.js';
import { problemsFromIssues } from './issues.js';
import { parseInventoryText, type LocatedProblem } from './parse.js';
import { expandHome } from './paths.js';
import { locate, sourceAt } from './positions.js';
import type { Problem } from './problem.js';
import { resolveInventory } from './resolve.js';
import { inventorySchema } from './schema.js';

export { inventoryJsonSchema } from './schema.js';

export interface LoadInventoryOptions {
  /** Where secrets named by the inventory, HOME and SSH_AUTH_SOCK are read from; process.env by default. */
  env?: NodeJS.ProcessEnv;
  /** Where bundles given as {url, sha256} are kept; ~/.cache/kubeforge/bundles by default. */
  cacheDir?: string;
  fetch?: typeof fetch;
}

export interface LoadedInventory {
  cluster: Cluster;
  /** Things worth knowing that do not stop a run, each as "FILE:LINE:COL: message". */
  warnings: string[];
}

export async function loadInventory(path: string, options: LoadInventoryOptions = {}): Promise<LoadedInventory> {
  const env = options.env ?? process.env;
  const home = env.HOME || homedir();

  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const detail = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory, not an inventory file' : `cannot be read (${code})`;
    throw new InputErrors([new InputError(path, detail, 'give the path of the inventory YAML file, e.g. inventory.yaml')]);
  }

  const parsed = parseInventoryText(bytes);
  const at = (p: LocatedProblem) => `${path}:${p.line}:${p.col}`;
  if (!parsed.ok) throw new InputErrors(parsed.errors.map((p) => new InputError(at(p), p.message, p.hint)));
  const { doc, lineCounter, value } = parsed;
  const place = (problem: Problem): LocatedProblem => ({
    ...locate(doc, lineCounter, problem.path, problem.at),
    message: problem.message,
    ...(problem.hint ? { hint: problem.hint } : {}),
  });
  const inputErrors = (problems: Problem[]) =>
    new InputErrors(sortByPosition(problems.map(place)).map((p) => new InputError(at(p), p.message, p.hint)));

  const validated = inventorySchema.safeParse(value, { reportInput: true });
  const schemaProblems = validated.success
    ? []
    : problemsFromIssues(validated.error.issues, { root: inventorySchema, input: value, sourceAt: (p) => sourceAt(doc, p) });
  const checked = runChecks(value, (p) => locate(doc, lineCounter, p).line);
  if (!validated.success || checked.errors.length > 0) throw inputErrors([...schemaProblems, ...checked.errors]);

  const resolved = await resolveInventory(validated.data, {
    inventoryPath: resolve(path),
    env,
    home,
    cacheDir: options.cacheDir
      ? resolve(expandHome(options.cacheDir, home))
      : join(env.XDG_CACHE_HOME || join(home, '.cache'), 'kubeforge', 'bundles'),
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
  if (!resolved.ok) throw inputErrors(resolved.errors);

  const warnings = sortByPosition([...parsed.warnings, ...[...checked.warnings, ...resolved.warnings].map(place)]);
  return { cluster: resolved.cluster, warnings: warnings.map((w) => `${at(w)}: ${w.message}`) };
}

function sortByPosition(problems: LocatedProblem[]): LocatedProblem[] {
  return [...problems].sort((a, b) => a.line - b.line || a.col - b.col);
}
