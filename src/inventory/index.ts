// Loading an inventory: read → YAML with positions → schema and cross-field checks → resolve.
// Every problem of a stage is reported together as InputErrors, each at FILE:LINE:COL with
// FILE as the caller gave it. Later stages run only once earlier ones are clean, because their
// input would not mean anything otherwise. Never opens an SSH connection.
import { open } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { InputError, InputErrors } from '../errors.js';
import type { Cluster } from '../model.js';
import { runChecks } from './checks.js';
import { DigestCache } from './digest-cache.js';
import { problemsFromIssues } from './issues.js';
import { parseInventoryText, type LocatedProblem } from './parse.js';
import { expandHome } from './paths.js';
import { locate, sourceAt } from './positions.js';
import { clip, MAX_MESSAGE_CHARS, showPath, type Problem } from './problem.js';
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

/**
 * The largest inventory file read. A real one is a few KB; the limit is far above that (a value
 * of a few MB is still read, and refused with a short message), but keeps a file of GBs or a
 * device such as /dev/zero from being read into memory and handed to the YAML parser.
 */
export const MAX_INVENTORY_BYTES = 10 * 1024 * 1024;

/**
 * At most this many problems are listed; the rest are counted in one more line at the first of
 * them. A file of 10,000 unknown keys gets a screenful, not 10,000 lines.
 */
export const MAX_REPORTED_PROBLEMS = 20;

/** The file's bytes, or undefined when there are more than `limit`; reads pipes and devices too. */
async function readBounded(path: string, limit: number): Promise<Buffer | undefined> {
  const handle = await open(path, 'r');
  try {
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const { bytesRead, buffer } = await handle.read(Buffer.alloc(Math.min(1024 * 1024, limit + 1 - total)), 0, undefined, null);
      if (bytesRead === 0) return Buffer.concat(chunks, total);
      chunks.push(buffer.subarray(0, bytesRead));
      total += bytesRead;
      if (total > limit) return undefined;
    }
  } finally {
    await handle.close();
  }
}

function formatSize(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${(bytes / (1024 * 1024)).toFixed(1)} MiB` : `${bytes} bytes`;
}

/** An InputError whose message and hint, whatever went into them, stay short. */
function inputError(where: string, problem: { message: string; hint?: string | undefined }): InputError {
  return new InputError(where, clip(problem.message, MAX_MESSAGE_CHARS), problem.hint === undefined ? undefined : clip(problem.hint, MAX_MESSAGE_CHARS));
}

/** The first MAX_REPORTED_PROBLEMS problems, and a line at the next one saying how many more there are. */
function capped(problems: LocatedProblem[]): LocatedProblem[] {
  if (problems.length <= MAX_REPORTED_PROBLEMS) return problems;
  const rest = problems.length - MAX_REPORTED_PROBLEMS;
  const next = problems[MAX_REPORTED_PROBLEMS]!;
  return [
    ...problems.slice(0, MAX_REPORTED_PROBLEMS),
    {
      line: next.line,
      col: next.col,
      message: `${rest} more problem${rest === 1 ? '' : 's'} from here on, not listed`,
      hint: 'fix the problems above and run again to see the rest',
    },
  ];
}

export async function loadInventory(path: string, options: LoadInventoryOptions = {}): Promise<LoadedInventory> {
  const env = options.env ?? process.env;
  const home = env.HOME || homedir();

  let bytes: Buffer | undefined;
  try {
    bytes = await readBounded(path, MAX_INVENTORY_BYTES);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const detail = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory, not an inventory file' : `cannot be read (${code})`;
    throw new InputErrors([new InputError(showPath(path), detail, 'give the path of the inventory YAML file, e.g. inventory.yaml')]);
  }
  const at = (p: LocatedProblem) => `${path}:${p.line}:${p.col}`;
  if (bytes === undefined) {
    throw new InputErrors([
      new InputError(
        at({ line: 1, col: 1, message: '' }),
        `the file is larger than ${formatSize(MAX_INVENTORY_BYTES)}; an inventory is a small text file`,
        'check that this is the inventory file and not a bundle or an image archive',
      ),
    ]);
  }

  const parsed = parseInventoryText(bytes);
  if (!parsed.ok) throw new InputErrors(capped(parsed.errors).map((p) => inputError(at(p), p)));
  const { doc, lineCounter, value } = parsed;
  const place = (problem: Problem): LocatedProblem => ({
    ...locate(doc, lineCounter, problem.path, problem.at),
    message: problem.message,
    ...(problem.hint ? { hint: problem.hint } : {}),
  });
  const inputErrors = (problems: Problem[]) => new InputErrors(capped(sortByPosition(problems.map(place))).map((p) => inputError(at(p), p)));

  const validated = inventorySchema.safeParse(value, { reportInput: true });
  const schemaProblems = validated.success
    ? []
    : problemsFromIssues(validated.error.issues, { root: inventorySchema, input: value, sourceAt: (p) => sourceAt(doc, p) });
  const checked = runChecks(value, (p) => locate(doc, lineCounter, p).line);
  if (!validated.success || checked.errors.length > 0) throw inputErrors([...schemaProblems, ...checked.errors]);

  const cacheDir = options.cacheDir ? resolve(expandHome(options.cacheDir, home)) : join(env.XDG_CACHE_HOME || join(home, '.cache'), 'kubeforge', 'bundles');
  const digests = new DigestCache(join(cacheDir, 'digests.json'));
  const resolved = await resolveInventory(validated.data, {
    inventoryPath: resolve(path),
    env,
    home,
    cacheDir,
    digests,
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
  await digests.save();
  if (!resolved.ok) throw inputErrors(resolved.errors);

  const warnings = sortByPosition([...parsed.warnings, ...[...checked.warnings, ...resolved.warnings].map(place)]);
  return { cluster: resolved.cluster, warnings: capped(warnings).map((w) => `${at(w)}: ${clip(w.message, MAX_MESSAGE_CHARS)}`) };
}

function sortByPosition(problems: LocatedProblem[]): LocatedProblem[] {
  return [...problems].sort((a, b) => a.line - b.line || a.col - b.col);
}
