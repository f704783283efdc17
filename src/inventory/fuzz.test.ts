// Property-based tests of the inventory loader (fast-check): whatever the file holds, loading it
// either succeeds or ends in our own InputErrors, every one at inventory.yaml:LINE:COL, in
// bounded time and with bounded output. Never a TypeError from a value of an odd shape, a
// RangeError from deep nesting, a parser exception, a hang or a 5 MB message.
//
// fast-check prints the seed and the shrunk counterexample of a failure; rerun it with
// fc.assert(..., { seed, path }) to reproduce it.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { formatError, InputError, InputErrors } from '../errors.js';
import { makeInventoryFixture, type InventoryFixture } from '../../test/inventories/fixtures.js';
import { loadInventory, MAX_REPORTED_PROBLEMS } from './index.js';
import { MAX_MESSAGE_CHARS } from './problem.js';

const EXAMPLE = readFileSync(fileURLToPath(new URL('../../inventory.example.yaml', import.meta.url)), 'utf8');
const EXAMPLE_LINES = EXAMPLE.split('\n');

/** Longest a case may take: loading the example itself takes a few ms. */
const CASE_TIMEOUT_MS = 2000;

let fixture: InventoryFixture;
let path: string;
beforeAll(() => {
  fixture = makeInventoryFixture();
  path = join(fixture.dir, 'inventory.yaml');
});
afterAll(() => fixture.remove());

type Outcome = { ok: true } | { ok: false; error: unknown };

/**
 * Loads `content` as inventory.yaml and checks the outcome: success, or InputErrors whose every
 * error is at inventory.yaml:LINE:COL with a bounded message, within CASE_TIMEOUT_MS.
 */
async function loadChecked(content: string | Uint8Array, timeoutMs = CASE_TIMEOUT_MS): Promise<Outcome> {
  writeFileSync(path, content);
  const started = Date.now();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutMs);
  });
  const load = loadInventory(path, {
    env: { ...fixture.env, SSH_AUTH_SOCK: '/run/agent.sock' },
    cacheDir: join(fixture.dir, 'cache'),
    // A mutated inventory may name a {url, sha256} bundle: never reach the network.
    fetch: () => Promise.reject(new Error('no network in tests')),
  }).then(
    (): Outcome => ({ ok: true }),
    (error: unknown): Outcome => ({ ok: false, error }),
  );
  const outcome = await Promise.race([load, timeout]);
  clearTimeout(timer);
  // A synchronous hang (a backtracking regex) holds the timer back as well: measure too.
  const elapsed = Date.now() - started;
  if (outcome === 'timeout' || elapsed > timeoutMs) throw new Error(`loadInventory took ${elapsed} ms (limit ${timeoutMs} ms)`);
  if (outcome.ok) return outcome;
  const { error } = outcome;
  if (!(error instanceof InputErrors)) {
    throw new Error(`expected InputErrors, got ${error instanceof Error ? `${error.name}: ${error.message}\n${error.stack}` : String(error)}`);
  }
  expect(error.errors.length).toBeGreaterThan(0);
  expect(error.errors.length).toBeLessThanOrEqual(MAX_REPORTED_PROBLEMS + 1);
  for (const e of error.errors) {
    expect(e).toBeInstanceOf(InputError);
    expect(e.where).toMatch(/inventory\.yaml:\d+:\d+$/);
    expect(e.message.startsWith(`${path}:`)).toBe(true);
    const [line, col] = e.where.slice(path.length + 1).split(':').map(Number) as [number, number];
    expect(line).toBeGreaterThanOrEqual(1);
    expect(col).toBeGreaterThanOrEqual(1);
    expect(e.detail.length).toBeLessThanOrEqual(MAX_MESSAGE_CHARS + 30);
    expect((e.hint ?? '').length).toBeLessThanOrEqual(MAX_MESSAGE_CHARS + 30);
  }
  expect(formatError(error).length).toBeLessThan((MAX_REPORTED_PROBLEMS + 1) * (2 * MAX_MESSAGE_CHARS + path.length + 100));
  return outcome;
}

// ---- (a) mutations of the example inventory -------------------------------------------------

const PUNCTUATION = [':', '-', '{', '}', '[', ']', '&', '*', '!', '|', '>', '#', "'", '"', ',', '?', '%', '@', '`', '<<', ': ', '- ', '\t', '\r', '\n', ' ', '\\', '\uFEFF', '\u0000', '\u00e9', '\u2028', '&a', '*a', '!!str', '!!binary', '!!set', '---', '...'];

/** A scalar as YAML text: plain, quoted, a number, a boolean, null, or a flow collection. */
const scalarText: fc.Arbitrary<string> = fc.oneof(
  fc.string({ maxLength: 20 }),
  fc.string({ maxLength: 20 }).map((s) => JSON.stringify(s)),
  fc.string({ unit: 'grapheme', maxLength: 10 }).map((s) => `'${s.replace(/'/g, "''")}'`),
  fc.integer().map(String),
  fc.double().map(String),
  fc.constantFrom('true', 'false', 'yes', 'no', 'null', '~', '', '0x1F', '0o17', '.inf', '-.nan', '1e400', '1.30', '022', '-1', '65536'),
  fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.stringify(v) ?? 'null'),
  fc.constantFrom('[]', '{}', '[a, b]', '{a: 1}', '*x', '&x v', '!!int "3"', '!tag v', '|\n  block', '>-\n  folded'),
);

type Mutation =
  | { op: 'delete'; line: number }
  | { op: 'duplicate'; line: number }
  | { op: 'swap'; line: number; other: number }
  | { op: 'indent'; line: number; by: number }
  | { op: 'insert'; line: number; at: number; text: string }
  | { op: 'value'; line: number; text: string }
  | { op: 'truncate'; at: number };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constant('delete' as const), line: fc.nat() }),
  fc.record({ op: fc.constant('duplicate' as const), line: fc.nat() }),
  fc.record({ op: fc.constant('swap' as const), line: fc.nat(), other: fc.nat() }),
  fc.record({ op: fc.constant('indent' as const), line: fc.nat(), by: fc.integer({ min: -4, max: 6 }) }),
  fc.record({
    op: fc.constant('insert' as const),
    line: fc.nat(),
    at: fc.nat(),
    text: fc.oneof(fc.constantFrom(...PUNCTUATION), fc.string({ maxLength: 5 }), fc.string({ unit: 'binary', maxLength: 5 })),
  }),
  { arbitrary: fc.record({ op: fc.constant('value' as const), line: fc.nat(), text: scalarText }), weight: 3 },
  fc.record({ op: fc.constant('truncate' as const), at: fc.nat() }),
);

const KEY_VALUE = /^(\s*(?:- )?[A-Za-z_.][\w.-]*:[ ]+)(.*?)(\s+#.*)?$/;

function mutate(lines: string[], m: Mutation): string[] {
  const out = [...lines];
  if (out.length === 0) return out;
  if (m.op === 'truncate') return out.join('\n').slice(0, m.at % (out.join('\n').length + 1)).split('\n');
  const i = m.line % out.length;
  const line = out[i]!;
  switch (m.op) {
    case 'delete':
      out.splice(i, 1);
      break;
    case 'duplicate':
      out.splice(i, 0, line);
      break;
    case 'swap': {
      const j = m.other % out.length;
      [out[i], out[j]] = [out[j]!, line];
      break;
    }
    case 'indent':
      out[i] = m.by >= 0 ? ' '.repeat(m.by) + line : line.slice(Math.min(-m.by, line.length - line.trimStart().length));
      break;
    case 'insert': {
      const at = m.at % (line.length + 1);
      out[i] = line.slice(0, at) + m.text + line.slice(at);
      break;
    }
    case 'value': {
      // Aim at a line that holds a key and value: the example's comments are many.
      const candidates = out.map((l, k) => (KEY_VALUE.test(l) ? k : -1)).filter((k) => k >= 0);
      if (candidates.length === 0) break;
      const k = candidates[m.line % candidates.length]!;
      out[k] = out[k]!.replace(KEY_VALUE, (_, key: string, _value: string, comment: string | undefined) => `${key}${m.text}${comment ?? ''}`);
      break;
    }
  }
  return out;
}

// ---- (b) random documents -------------------------------------------------------------------

/** Render a JS value as YAML; undefined when the yaml package itself cannot. */
function render(value: unknown, options: Parameters<typeof stringify>[2] = {}): string | undefined {
  try {
    return stringify(value, null, options);
  } catch {
    return undefined;
  }
}

const EXAMPLE_VALUE = (await import('yaml')).parse(EXAMPLE) as Record<string, unknown>;

/** Every path to a value in the example, mappings and lists included. */
function pathsOf(value: unknown, prefix: (string | number)[] = []): (string | number)[][] {
  const here = prefix.length > 0 ? [prefix] : [];
  if (Array.isArray(value)) return [...here, ...value.flatMap((v, i) => pathsOf(v, [...prefix, i]))];
  if (value !== null && typeof value === 'object') return [...here, ...Object.entries(value).flatMap(([k, v]) => pathsOf(v, [...prefix, k]))];
  return here;
}
const EXAMPLE_PATHS = pathsOf(EXAMPLE_VALUE);

function withValue(root: unknown, path: (string | number)[], value: unknown): unknown {
  const copy = structuredClone(root) as Record<string | number, unknown>;
  let node = copy;
  for (const segment of path.slice(0, -1)) {
    // An earlier replacement may have changed the shape: replace the deepest part that is left.
    const next = node[segment];
    if (next === null || typeof next !== 'object') return copy;
    node = next as Record<string | number, unknown>;
  }
  if (value === undefined) delete node[path.at(-1)!];
  else node[path.at(-1)!] = value;
  return copy;
}

const oddValue = fc.oneof(
  fc.anything({ maxDepth: 2, maxKeys: 4, withNullPrototype: true, withBoxedValues: false }),
  fc.jsonValue({ maxDepth: 2 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom(undefined, null, '', 0, -1, 65536, 1.5, Number.NaN, Number.POSITIVE_INFINITY, true, [], {}, ['x'], { url: 'x', sha256: 'y' }, '__proto__', 'constructor'),
);

describe('loadInventory under fuzzing', () => {
  it('loads the unmutated example (the baseline the mutations start from)', async () => {
    expect(await loadChecked(EXAMPLE)).toEqual({ ok: true });
  });

  it('(a) mutated example inventories: success or positioned InputErrors', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(mutation, { minLength: 1, maxLength: 5 }), async (mutations) => {
        const lines = mutations.reduce(mutate, EXAMPLE_LINES);
        await loadChecked(lines.join('\n'));
      }),
      { numRuns: 1000 },
    );
  });

  it('(a) the example with values replaced by values of any shape', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(fc.nat(), oddValue), { minLength: 1, maxLength: 4 }), async (replacements) => {
        const value = replacements.reduce<unknown>((doc, [i, v]) => withValue(doc, EXAMPLE_PATHS[i % EXAMPLE_PATHS.length]!, v), EXAMPLE_VALUE);
        const text = render(value);
        if (text !== undefined) await loadChecked(text);
      }),
      { numRuns: 800 },
    );
  });

  it('(b) random YAML documents, flow and block', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.anything({ maxDepth: 4 }), fc.jsonValue({ maxDepth: 4 })), fc.boolean(), async (value, flow) => {
        const text = render(value, flow ? { collectionStyle: 'flow' } : {});
        if (text !== undefined) await loadChecked(text);
      }),
      { numRuns: 600 },
    );
  });

  it('(b) random text and random bytes', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.string({ maxLength: 200 }),
          fc.string({ unit: 'grapheme', maxLength: 100 }),
          fc.string({ unit: 'binary', maxLength: 100 }),
          fc.array(fc.constantFrom(...PUNCTUATION, 'a', 'b', '1', 'cluster', 'hosts'), { maxLength: 60 }).map((parts) => parts.join('')),
          fc.uint8Array({ maxLength: 200 }),
        ),
        async (content) => {
          await loadChecked(content);
        },
      ),
      { numRuns: 1000 },
    );
  });
});

describe('loadInventory on hostile inputs', () => {
  it('refuses a billion-laughs alias bomb quickly, at the alias, without the memory it asks for', async () => {
    const lines = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i <= 10; i++) lines.push(`l${i}: &l${i} [${Array(10).fill(i === 1 ? '*a' : `*l${i - 1}`).join(', ')}]`);
    const before = process.memoryUsage().heapUsed;
    const started = Date.now();
    const outcome = await loadChecked(`${lines.join('\n')}\n`);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(process.memoryUsage().heapUsed - before).toBeLessThan(200 * 1024 * 1024);
    expect(outcome.ok).toBe(false);
    const error = (outcome as { error: InputErrors }).error;
    expect(error.errors[0]!.message).toMatch(/inventory\.yaml:2:\d+: YAML syntax: .*alias/i);
  });

  it('refuses the bomb inside an otherwise valid inventory as well', async () => {
    const bomb = ['  a: &a [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i <= 10; i++) bomb.push(`  l${i}: &l${i} [${Array(10).fill(i === 1 ? '*a' : `*l${i - 1}`).join(', ')}]`);
    const outcome = await loadChecked(`${EXAMPLE}\nextra:\n${bomb.join('\n')}\n`);
    expect(outcome.ok).toBe(false);
  });

  it('refuses a 20 MB document without reading it into the YAML parser', async () => {
    const outcome = await loadChecked(`cluster:\n  name: "${'a'.repeat(20 * 1024 * 1024)}"\n`);
    expect((outcome as { error: Error }).error.message).toMatch(/inventory\.yaml:1:1: the file is larger than 10\.0 MiB/);
  });

  it('handles an 8 MB value within the size limit', async () => {
    const outcome = await loadChecked(EXAMPLE.replace('name: demo ', `name: ${'a'.repeat(8 * 1024 * 1024)} `), 5000);
    expect((outcome as { error: Error }).error.message).toMatch(/inventory\.yaml:8:9: cluster\.name: "a{80}…" \(8388608 characters\) is not a DNS-1123 label/);
  });

  it('refuses flow sequences nested 10,000 deep (closed and unclosed), and then still works', async () => {
    for (const text of [`${'['.repeat(10_000)}${']'.repeat(10_000)}`, '['.repeat(10_000), `a: ${'{a: '.repeat(10_000)}1${'}'.repeat(10_000)}`]) {
      const outcome = await loadChecked(text);
      expect((outcome as { error: Error }).error.message).toMatch(/inventory\.yaml:1:\d+: YAML structure: .*nested more than 64 levels/);
    }
    // After a deep document the parser once left V8 in a state that aborted the process on the
    // next one (a fatal "RegExpCompiler Allocation failed"): load a few more.
    expect(await loadChecked(EXAMPLE)).toEqual({ ok: true });
    await loadChecked('[[[[[[[[[[');
  });

  it('reports a document of 10,000 keys in a screenful, quickly', async () => {
    const outcome = await loadChecked(Array.from({ length: 10_000 }, (_, i) => `key${i}: ${i}`).join('\n'));
    expect((outcome as { error: InputErrors }).error.errors).toHaveLength(MAX_REPORTED_PROBLEMS + 1);
  });

  it('refuses bytes that are not UTF-8, at the first of them', async () => {
    const bytes = Buffer.concat([Buffer.from('cluster:\n  name: de'), Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from('mo\n')]);
    const outcome = await loadChecked(bytes);
    expect((outcome as { error: Error }).error.message).toMatch(/inventory\.yaml:2:11: not a YAML file: it is not UTF-8/);
  });

  it('accepts a byte order mark and CRLF line ends', async () => {
    expect(await loadChecked(`\uFEFF${EXAMPLE}`)).toEqual({ ok: true });
    expect(await loadChecked(EXAMPLE.replace(/\n/g, '\r\n'))).toEqual({ ok: true });
    expect(await loadChecked(`\uFEFF${EXAMPLE.replace(/\n/g, '\r\n')}`)).toEqual({ ok: true });
  });

  it('refuses tab indentation at the first tab, and accepts tabs inside values and comments', async () => {
    const outcome = await loadChecked(EXAMPLE.replace('\n  name: demo', '\n\tname: demo'));
    expect((outcome as { error: Error }).error.message).toMatch(/inventory\.yaml:8:1: YAML syntax: tabs are not allowed as indentation/);
    expect(await loadChecked(EXAMPLE.replace('name: demo', 'name:\tdemo\t# tab\t'))).toEqual({ ok: true });
  });
});
