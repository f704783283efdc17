// Reading the inventory text into a YAML document that keeps positions, and rejecting what is
// not an inventory-shaped YAML file at all: binary data, syntax errors, duplicate keys, an empty
// file, a top level that is not a mapping.
import {
  isAlias,
  isMap,
  isPair,
  isScalar,
  isSeq,
  LineCounter,
  Parser,
  parseDocument,
  visit,
  type Document,
  type Node,
  type CST,
  type YAMLError,
} from 'yaml';
import type { Position } from './positions.js';
import { clip, formatPath, MAX_PATH_CHARS, quote, type Path } from './problem.js';

export interface LocatedProblem extends Position {
  message: string;
  hint?: string;
}

export type ParseResult =
  | { ok: true; doc: Document; lineCounter: LineCounter; value: Record<string, unknown>; warnings: LocatedProblem[] }
  | { ok: false; errors: LocatedProblem[] };

const NOT_YAML_HINT = 'an inventory is a YAML text file; compare with inventory.example.yaml';
const TOP_LEVEL_HINT = 'an inventory is a mapping with the keys cluster, kubernetes, containerd, ssh and hosts; see inventory.example.yaml';

// C0 control characters other than tab, LF and CR are not allowed anywhere in YAML; they are the
// surest sign of a binary file that happens to decode.
const CONTROL_CHARACTER = /[\x00-\x08\x0B\x0C\x0E-\x1F\x7F]/;

const SYNTAX_HINTS: Record<string, string> = {
  TAB_AS_INDENT: 'indent with spaces: YAML does not allow tabs for indentation',
  BAD_INDENT: 'align the keys of one mapping, and the items of one list, in the same column',
  MISSING_CHAR: 'close the quote or bracket opened before this point',
  MULTIPLE_DOCS: 'an inventory is one YAML document: remove the "---" line and what follows it, or merge the two',
  MULTILINE_IMPLICIT_KEY: 'line up the next line with the keys around it, and write "key: value" with a space after ":"',
  BLOCK_AS_IMPLICIT_KEY: 'line up the next line with the keys around it, and write "key: value" with a space after ":"',
  UNEXPECTED_TOKEN: 'check for a missing ":" after a key, or a missing space after ":"',
  BAD_SCALAR_START: 'put values that start with @ or ` in quotes',
  BAD_DQ_ESCAPE: 'inside double quotes a backslash starts an escape; use single quotes or write \\\\',
};

// The parser's wording for these is about its own grammar; say what the user sees instead.
const SYNTAX_MESSAGES: Record<string, string> = {
  MULTIPLE_DOCS: 'a second YAML document starts here',
  BLOCK_AS_IMPLICIT_KEY: 'cannot tell where this value ends: the next line is indented further than it should be, or a ":" is missing',
  MULTILINE_IMPLICIT_KEY: 'cannot tell where this value ends: the next line is indented further than it should be, or a ":" is missing',
};

function syntaxMessage(message: string): string {
  // The parser's messages can quote the text (a tag, an anchor name): keep them to a line.
  const first = clip(message.split(' at line ')[0]!.split('\n')[0]!, MAX_PATH_CHARS);
  return `YAML syntax: ${first.charAt(0).toLowerCase()}${first.slice(1)}`;
}

/**
 * How deeply collections may nest. An inventory needs five levels; the YAML composer and
 * everything after it recurse once per level, and a few thousand levels ([[[[…) overflow the
 * stack, which has been seen to leave V8 in a state where a later regular expression aborts
 * the whole process. So depth is measured on the parser's token tree first, without recursion.
 */
export const MAX_NESTING = 64;

const COLLECTION_TYPES = new Set(['block-map', 'block-seq', 'flow-collection']);

/** The first collection nested deeper than MAX_NESTING, as the offset where it starts. */
function tooDeep(tokens: readonly CST.Token[]): number | undefined {
  const stack: { token: CST.Token | null | undefined; depth: number }[] = tokens.map((token) => ({ token, depth: 0 }));
  while (stack.length > 0) {
    const { token, depth } = stack.pop()!;
    if (!token || typeof token !== 'object') continue;
    const level = COLLECTION_TYPES.has(token.type) ? depth + 1 : depth;
    if (level > MAX_NESTING) return token.offset;
    if ('value' in token && token.value && typeof token.value === 'object') stack.push({ token: token.value, depth: level });
    if ('items' in token) {
      for (const item of token.items as { key?: CST.Token | null; value?: CST.Token }[]) {
        if (item.key) stack.push({ token: item.key, depth: level });
        if (item.value) stack.push({ token: item.value, depth: level });
      }
    }
  }
  return undefined;
}

/**
 * An unclosed quote or bracket is only noticed where the file ends, far from the mistake; the
 * node the parser built for it starts at the opening character, so report that instead.
 */
type Opener = { offset: number; opener: string };

/** Every quote and bracket node by the offset where it ends (the first one for each offset). */
function openersByEnd(doc: Document): Map<number, Opener> {
  const byEnd = new Map<number, Opener>();
  const note = (node: Node, opener: string | undefined) => {
    if (opener && node.range && !byEnd.has(node.range[1])) byEnd.set(node.range[1], { offset: node.range[0], opener });
  };
  visit(doc, {
    Scalar: (_, node) => note(node, node.type === 'QUOTE_DOUBLE' ? '"' : node.type === 'QUOTE_SINGLE' ? "'" : undefined),
    Map: (_, node) => note(node, node.flow ? '{' : undefined),
    Seq: (_, node) => note(node, node.flow ? '[' : undefined),
  });
  return byEnd;
}

const CLOSER: Record<string, string> = { '"': '"', "'": "'", '{': '}', '[': ']' };

function syntaxProblem(openers: () => Map<number, Opener>, error: YAMLError, at: (offset: number) => Position): LocatedProblem {
  const unclosed = error.code === 'MISSING_CHAR' || error.code === 'BAD_INDENT' ? openers().get(error.pos[0]) : undefined;
  if (unclosed) {
    return {
      ...at(unclosed.offset),
      message: `YAML syntax: this ${unclosed.opener} is never closed`,
      hint: `close it with ${CLOSER[unclosed.opener]} on the same line`,
    };
  }
  const message = SYNTAX_MESSAGES[error.code];
  return {
    ...at(error.pos[0]),
    message: message ? `YAML syntax: ${message}` : syntaxMessage(error.message),
    hint: SYNTAX_HINTS[error.code] ?? 'check the YAML syntax on this line and the lines just above it',
  };
}

function positionOfIndex(text: string, index: number): Position {
  const before = text.slice(0, index);
  return { line: before.split('\n').length, col: index - before.lastIndexOf('\n') };
}

/** The first sign that the bytes are not text at all, located, or undefined for text. */
function binaryContent(input: Uint8Array | string): LocatedProblem | undefined {
  const text = typeof input === 'string' ? input : new TextDecoder('utf-8').decode(input);
  const control = CONTROL_CHARACTER.exec(text);
  if (control) {
    const code = control[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0');
    return {
      ...positionOfIndex(text, control.index),
      message: `not a YAML file: it contains the control character U+${code} (binary data?)`,
      hint: NOT_YAML_HINT,
    };
  }
  if (typeof input !== 'string') {
    try {
      new TextDecoder('utf-8', { fatal: true }).decode(input);
    } catch {
      // The lenient decoder put U+FFFD where the bytes stopped being UTF-8.
      const where = positionOfIndex(text, Math.max(0, text.indexOf('\uFFFD')));
      return { ...where, message: 'not a YAML file: it is not UTF-8 text (binary data?)', hint: NOT_YAML_HINT };
    }
  }
  return undefined;
}

export function parseInventoryText(input: Uint8Array | string): ParseResult {
  const binary = binaryContent(input);
  if (binary) return { ok: false, errors: [binary] };
  const text = typeof input === 'string' ? input : new TextDecoder('utf-8').decode(input);

  const lineCounter = new LineCounter();
  const at = (offset: number): Position => lineCounter.linePos(offset);
  const deep = tooDeep([...new Parser(lineCounter.addNewLine).parse(text)]);
  if (deep !== undefined) {
    return {
      ok: false,
      errors: [
        {
          ...at(deep),
          message: `YAML structure: lists and mappings are nested more than ${MAX_NESTING} levels deep here`,
          hint: 'an inventory nests a few levels at most; check for brackets that are opened but not closed',
        },
      ],
    };
  }
  const doc = parseDocument(text, { uniqueKeys: false, prettyErrors: true });
  let openers: Map<number, Opener> | undefined;
  const openersOnce = () => (openers ??= openersByEnd(doc));
  // One mistake often trips several parser rules at the same place: report it once.
  const seen = new Set<string>();
  const syntaxErrors = doc.errors
    .map((error) => syntaxProblem(openersOnce, error, at))
    .filter((p) => {
      const key = `${p.line}:${p.col}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
  if (syntaxErrors.length > 0) return { ok: false, errors: syntaxErrors };

  const structureErrors = checkStructure(doc, at);
  if (structureErrors.length > 0) return { ok: false, errors: structureErrors };

  const contents = doc.contents as Node | null;
  if (contents === null || (isScalar(contents) && contents.value === null)) {
    return {
      ok: false,
      errors: [{ line: 1, col: 1, message: 'the inventory is empty', hint: 'start from inventory.example.yaml, which lists every field' }],
    };
  }
  if (!isMap(contents)) {
    const what = isSeq(contents) ? 'a list' : `a single ${typeof (contents as { value?: unknown }).value} value`;
    return {
      ok: false,
      errors: [
        { ...at(contents.range?.[0] ?? 0), message: `not an inventory: the top level is ${what}, not a mapping of keys`, hint: TOP_LEVEL_HINT },
      ],
    };
  }

  let value: Record<string, unknown>;
  try {
    value = doc.toJS() as Record<string, unknown>;
  } catch (err) {
    // yaml refuses documents whose aliases expand exponentially ("billion laughs"); point at
    // the first alias, where the expansion starts.
    let first: number | undefined;
    visit(doc, {
      Alias: (_, node) => {
        first = node.range?.[0];
        return visit.BREAK;
      },
    });
    const message = `YAML syntax: ${clip((err as Error).message, MAX_PATH_CHARS)}`;
    return { ok: false, errors: [{ ...at(first ?? 0), message, hint: 'write the values out instead of nesting aliases' }] };
  }
  const warnings = doc.warnings.map((warning) => ({ ...at(warning.pos[0]), message: syntaxMessage(warning.message) }));
  return { ok: true, doc, lineCounter, value, warnings };
}

// YAML accepts things an inventory cannot mean: a key written twice (the parser keeps one of
// them silently), keys that are lists or mappings, aliases to anchors that do not exist.
function checkStructure(doc: Document, at: (offset: number) => Position): LocatedProblem[] {
  const problems: LocatedProblem[] = [];
  const walk = (node: unknown, path: Path): void => {
    if (isAlias(node)) {
      if (!node.resolve(doc)) {
        problems.push({
          ...at(node.range?.[0] ?? 0),
          message: `${formatPath(path)}: the alias *${clip(node.source)} refers to no anchor`,
          hint: `define &${clip(node.source)} on an earlier value, or write the value out`,
        });
      }
      return;
    }
    if (isSeq(node)) node.items.forEach((item, i) => walk(item, [...path, i]));
    if (!isMap(node)) return;
    const firstLine = new Map<string, number>();
    for (const pair of node.items) {
      if (!isPair(pair)) continue;
      const key = pair.key as Node | null;
      if (!isScalar(key) || key.value === null) {
        problems.push({
          ...at(key?.range?.[0] ?? node.range?.[0] ?? 0),
          message: `${formatPath(path)}: a key must be a plain word, not ${key === null || isScalar(key) ? 'empty' : 'a list or mapping'}`,
          hint: 'write keys as words followed by ":", e.g. name: cp1',
        });
        continue;
      }
      const name = String(key.value);
      const line = at(key.range?.[0] ?? 0).line;
      const first = firstLine.get(name);
      if (first !== undefined) {
        problems.push({
          ...at(key.range?.[0] ?? 0),
          message: `${formatPath(path)}: duplicate key ${quote(name)} (first on line ${first})`,
          hint: 'YAML would keep only one of the two values; remove or merge one of them',
        });
      } else {
        firstLine.set(name, line);
      }
      walk(pair.value, [...path, name]);
    }
  };
  walk(doc.contents, []);
  return problems;
}
