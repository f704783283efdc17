// Merging one cluster's admin entries into an existing kubeconfig, as text in and text out.
// Only the three entries named after the cluster are added or replaced; every other cluster,
// user and context stays as it was, in its place, with the file's comments (yaml's Document
// API edits the parsed document rather than rewriting it from values).
import { isDeepStrictEqual } from 'node:util';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, YAMLSeq, type Document, type Node, type YAMLMap } from 'yaml';
import { InputError } from '../../errors.js';
import { showPath } from '../../inventory/problem.js';
import { KUBECTL_STYLE, type AdminEntries } from './entries.js';

export type EntryChange = 'added' | 'replaced' | 'unchanged';

export interface MergeResult {
  /** The merged kubeconfig (equal to the input when nothing changed). */
  text: string;
  changed: boolean;
  entries: { cluster: EntryChange; user: EntryChange; context: EntryChange };
  /** The file's current-context after the merge; set to the cluster's only when it had none. */
  currentContext: string;
  currentContextSet: boolean;
}

const LISTS = [
  ['clusters', 'cluster'],
  ['users', 'user'],
  ['contexts', 'context'],
] as const;

const NOT_WRITTEN_HINT = 'fix the file (or move it away) and run again; nothing was written';

/**
 * Merges `admin` into the kubeconfig `existing` (undefined: there is no file yet). `file` names
 * it in errors. A file that is not a kubeconfig kubectl could read is refused with its line and
 * column, never overwritten.
 */
export function mergeKubeconfig(existing: string | undefined, file: string, admin: AdminEntries): MergeResult {
  const lineCounter = new LineCounter();
  const doc = parseDocument(existing ?? '', { lineCounter, prettyErrors: false, uniqueKeys: true });
  const refuse = (detail: string, offset: number | undefined) => {
    const { line, col } = lineCounter.linePos(offset ?? 0);
    return new InputError(`${showPath(file)}:${line}:${col}`, detail, NOT_WRITTEN_HINT);
  };
  if (doc.errors.length > 0) {
    const first = doc.errors[0]!;
    throw refuse(`is not valid YAML: ${first.message.split('\n')[0]!.split(' at line ')[0]}`, first.pos[0]);
  }
  const before = doc.toJS() as unknown;

  if (doc.contents === null || (isScalar(doc.contents) && doc.contents.value === null)) {
    // No file, an empty one or only comments: a kubeconfig as kubectl starts one.
    doc.contents = doc.createNode({ apiVersion: 'v1', clusters: [], contexts: [], 'current-context': '', kind: 'Config', preferences: {}, users: [] }) as never;
  }
  if (!isMap(doc.contents)) throw refuse('is not a kubeconfig: its top level is not a mapping', (doc.contents as Node).range?.[0]);
  const top = doc.contents as YAMLMap<unknown, unknown>;
  const kind = top.get('kind', true);
  if (kind !== undefined && !(isScalar(kind) && (kind.value === 'Config' || kind.value === null))) {
    throw refuse(`is not a kubeconfig: kind is ${JSON.stringify(isScalar(kind) ? kind.value : 'not a word')}, not Config`, (kind as Node).range?.[0]);
  }

  const names = { cluster: admin.names.cluster, user: admin.names.user, context: admin.names.context };
  const changes = {} as MergeResult['entries'];
  for (const [list, singular] of LISTS) {
    const seq = listOf(doc, list, refuse);
    changes[singular] = put(doc, seq, names[singular], admin[singular]);
  }

  const current = top.get('current-context', true);
  const currentName = isScalar(current) && typeof current.value === 'string' ? current.value : '';
  const currentContextSet = currentName === '';
  if (currentContextSet) top.set('current-context', names.context);

  const text = doc.toString(KUBECTL_STYLE);
  checkOthersKept(before, text, names);
  const changed = Object.values(changes).some((c) => c !== 'unchanged') || currentContextSet;
  return {
    text: changed ? text : (existing ?? text),
    changed,
    entries: changes,
    currentContext: currentContextSet ? names.context : currentName,
    currentContextSet,
  };
}

type Refuse = (detail: string, offset: number | undefined) => InputError;

/** The sequence under `list`, made when the key is missing or null; anything else is refused. */
function listOf(doc: Document, list: string, refuse: Refuse): YAMLSeq {
  const top = doc.contents as YAMLMap<unknown, unknown>;
  const node = top.get(list, true) as Node | undefined;
  if (node === undefined || (isScalar(node) && node.value === null)) {
    const seq = new YAMLSeq();
    top.set(list, seq);
    return seq;
  }
  if (!isSeq(node)) throw refuse(`is not a kubeconfig: ${list} is not a list`, node.range?.[0]);
  node.items.forEach((item) => {
    const name = isMap(item) ? item.get('name', true) : undefined;
    if (!isMap(item) || !isScalar(name) || typeof name.value !== 'string') {
      throw refuse(`is not a kubeconfig: an entry of ${list} has no name`, (item as Node | null)?.range?.[0] ?? node.range?.[0]);
    }
  });
  return node;
}

/** Adds or replaces the item named `name`; a later item of the same name is removed. */
function put(doc: Document, seq: YAMLSeq, name: string, entry: Record<string, unknown>): EntryChange {
  const nameOf = (item: unknown) => (isMap(item) ? (item.get('name') as unknown) : undefined);
  const at = seq.items.findIndex((item) => nameOf(item) === name);
  if (at === -1) {
    // An empty list written as [] would otherwise take the new item in flow style.
    if (seq.items.length === 0) seq.flow = false;
    seq.items.push(doc.createNode(entry));
    return 'added';
  }
  const duplicates = seq.items.filter((item, i) => i > at && nameOf(item) === name);
  if (duplicates.length > 0) seq.items = seq.items.filter((item, i) => i <= at || nameOf(item) !== name);
  const old = seq.items[at] as Node;
  if (duplicates.length === 0 && isDeepStrictEqual(old.toJSON(), entry)) return 'unchanged';
  seq.items[at] = doc.createNode(entry);
  return 'replaced';
}

/**
 * The promise "never touching other entries", checked on the result: every other cluster, user
 * and context, and every other top-level key, reads back exactly as before. A failure here is a
 * bug, and nothing is written.
 */
function checkOthersKept(before: unknown, text: string, names: { cluster: string; user: string; context: string }): void {
  const after = parseDocument(text).toJS() as Record<string, unknown>;
  const old = (before ?? {}) as Record<string, unknown>;
  const others = (value: unknown, name: string) => (Array.isArray(value) ? value.filter((e) => (e as { name?: unknown } | null)?.name !== name) : []);
  const kept =
    isDeepStrictEqual(others(old.clusters, names.cluster), others(after.clusters, names.cluster)) &&
    isDeepStrictEqual(others(old.users, names.user), others(after.users, names.user)) &&
    isDeepStrictEqual(others(old.contexts, names.context), others(after.contexts, names.context)) &&
    Object.keys(old)
      .filter((k) => !['clusters', 'users', 'contexts', 'current-context'].includes(k))
      .every((k) => isDeepStrictEqual(old[k], after[k]));
  if (!kept) throw new Error('merging the kubeconfig would have changed entries of other clusters (this is a bug in kubeforge); nothing was written');
}
