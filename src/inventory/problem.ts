// The common currency of every validation stage: a problem located by its path in the document.
// Stages produce problems; index.ts turns their paths into FILE:LINE:COL and InputErrors.

export type PathSegment = string | number;
export type Path = readonly PathSegment[];

export interface Problem {
  /** Where in the document the problem is, e.g. ['hosts', 1, 'ssh', 'port']. */
  path: Path;
  /**
   * Point at the entry's key instead of its value: unknown keys, a missing key reported on its
   * parent, record keys that are themselves invalid.
   */
  at?: 'value' | 'key';
  /** Complete sentence, starting with the field it is about. */
  message: string;
  hint?: string;
}

const PLAIN_KEY = /^[A-Za-z_][A-Za-z0-9_-]*$/;

/** hosts[1].ssh.port, containerd.registryMirrors["docker.io"]; the document root is "inventory". */
export function formatPath(path: Path): string {
  if (path.length === 0) return 'inventory';
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (PLAIN_KEY.test(segment)) out += out === '' ? segment : `.${segment}`;
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out;
}

/** A value as a user would recognise it in a message: strings quoted, the rest as written. */
export function showValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (value === null || value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return String(value);
}
