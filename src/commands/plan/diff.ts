// A unified diff of a rendered file against the host's current one, as a plan shows it: both
// sides redacted first (redact.ts), so a secret can reach the diff from neither.
import { createTwoFilesPatch } from 'diff';
import type { Redactor } from '../../cluster/secrets.js';
import { redactFileText } from './redact.js';

/**
 * The diff from `current` (the host's file; undefined when it has none: a creation) to
 * `planned`, labelled HOST:PATH and "planned". Empty when the two differ only in what was redacted.
 */
export function fileDiff(host: string, path: string, current: string | undefined, planned: string, redactor: Redactor): string {
  const before = current === undefined ? '' : redactFileText(current, redactor);
  const after = redactFileText(planned, redactor);
  if (before === after) return '';
  const patch = createTwoFilesPatch(current === undefined ? '/dev/null' : `${host}:${path}`, `planned:${path}`, before, after, undefined, undefined, { context: 3 });
  // jsdiff starts with an "Index:"-less header "===…" line only when given one; drop its blank first lines.
  return patch
    .split('\n')
    .filter((l) => !/^=+$/.test(l))
    .join('\n')
    .trimEnd();
}
