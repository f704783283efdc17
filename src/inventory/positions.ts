// From a path in the inventory (['hosts', 1, 'ssh', 'port']) back to the line and column where
// the user wrote it. A path that does not exist in the document (a missing key, a default)
// points at the deepest part that does: the parent's key, so "missing key" lands on the map
// that lacks it.
import { isAlias, isMap, isScalar, isSeq, type Document, type LineCounter, type Node, type Pair, type YAMLMap } from 'yaml';
import type { Path } from './problem.js';

export interface Position {
  line: number;
  col: number;
}

interface Found {
  /** The value node at the deepest segment reached (undefined for an empty document). */
  node: Node | null | undefined;
  /** The key node of the map entry holding `node`, when it sits in a map. */
  key: Node | undefined;
  /** Whether every segment of the path was found. */
  complete: boolean;
}

// Problems are located one by one; a mapping of 10,000 keys with a problem at each must not cost
// 10,000 scans of it. The first entry of a key wins, as YAML's reading of duplicates does not
// matter here: duplicates are refused before anything is located.
const pairIndexes = new WeakMap<YAMLMap, Map<string, Pair>>();

function pairOf(map: YAMLMap, segment: string | number): Pair | undefined {
  let index = pairIndexes.get(map);
  if (!index) {
    index = new Map();
    for (const pair of map.items) {
      if (!isScalar(pair.key)) continue;
      const name = String(pair.key.value);
      if (!index.has(name)) index.set(name, pair);
    }
    pairIndexes.set(map, index);
  }
  return index.get(String(segment));
}

function find(doc: Document, path: Path): Found {
  let node = doc.contents as Node | null;
  let key: Node | undefined;
  for (const segment of path) {
    if (isAlias(node)) node = node.resolve(doc) ?? null;
    if (isMap(node)) {
      const pair = pairOf(node, segment);
      if (!pair) return { node, key, complete: false };
      key = pair.key as Node;
      node = pair.value as Node | null;
    } else if (isSeq(node) && typeof segment === 'number' && segment < node.items.length) {
      key = undefined;
      node = node.items[segment] as Node | null;
    } else {
      return { node, key, complete: false };
    }
  }
  return { node, key, complete: true };
}

function startOf(node: Node | null | undefined): number | undefined {
  return node?.range?.[0];
}

/** Line and column (1-based) for the value at path, or its key when at is 'key'. */
export function locate(doc: Document, lineCounter: LineCounter, path: Path, at: 'value' | 'key' = 'value'): Position {
  const { node, key, complete } = find(doc, path);
  // An entry written as "key:" with nothing after it has an empty value node at the line's end;
  // the key is what the user will look for.
  const emptyValue = isScalar(node) && node.value === null && node.source === '';
  const preferKey = key !== undefined && (!complete || at === 'key' || emptyValue);
  const offset = (preferKey ? startOf(key) : startOf(node)) ?? startOf(key) ?? 0;
  return lineCounter.linePos(offset);
}

/** What the user typed for the scalar at path ("1.30" where YAML made the number 1.3). */
export function sourceAt(doc: Document, path: Path): string | undefined {
  const { node, complete } = find(doc, path);
  return complete && isScalar(node) && typeof node.source === 'string' ? node.source : undefined;
}
