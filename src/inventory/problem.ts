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

/** Longest user value quoted back in a message: a cluster name of 5 MB is shown by its start. */
export const MAX_VALUE_CHARS = 80;
/** Longest user-given file path or URL quoted back in a message. */
export const MAX_PATH_CHARS = 200;
/** Longest message or hint an inventory problem may have: the last net behind the bounds above. */
export const MAX_MESSAGE_CHARS = 2000;

/** The first `max` UTF-16 units of text, without splitting a surrogate pair. */
function head(text: string, max: number): string {
  const cut = text.slice(0, max);
  const last = cut.charCodeAt(cut.length - 1);
  return last >= 0xd800 && last <= 0xdbff ? cut.slice(0, -1) : cut;
}

/** Text as is when short; otherwise its start, an ellipsis and its full length. */
export function clip(text: string, max: number = MAX_VALUE_CHARS): string {
  if (text.length <= max) return text;
  return `${head(text, max)}… (${text.length} characters)`;
}

/** A file path or URL the user wrote (or one built from it), bounded like any other value. */
export function showPath(path: string): string {
  return clip(path, MAX_PATH_CHARS);
}

/** A string in double quotes as JSON writes it, cut after `max` characters: "aaaa…" (5242880 characters). */
export function quote(text: string, max: number = MAX_VALUE_CHARS): string {
  if (text.length <= max) return JSON.stringify(text);
  return `${JSON.stringify(head(text, max)).slice(0, -1)}…" (${text.length} characters)`;
}

/** hosts[1].ssh.port, containerd.registryMirrors["docker.io"]; the document root is "inventory". */
export function formatPath(path: Path): string {
  if (path.length === 0) return 'inventory';
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (segment.length <= MAX_VALUE_CHARS && PLAIN_KEY.test(segment)) out += out === '' ? segment : `.${segment}`;
    else out += `[${quote(segment)}]`;
  }
  return out;
}

/** A value as a user would recognise it in a message: strings quoted (and cut), the rest as written. */
export function showValue(value: unknown): string {
  if (typeof value === 'string') return quote(value);
  if (value === null || value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return clip(String(value));
}
