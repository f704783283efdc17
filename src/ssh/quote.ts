// POSIX shell quoting. Every value that reaches a remote command line goes through here, so a
// path, label or version with a quote, `$(…)`, backtick, `;` or newline stays one literal word.

/** Words made only of these characters mean the same quoted or not; leave them bare to keep logs readable. */
const SAFE_WORD = /^[A-Za-z0-9_\/.,:@%+-]+$/;

/**
 * Quote `value` as one word for a POSIX shell. Inside single quotes nothing is special except the
 * single quote itself, which is written as `'\''` (close, escaped quote, reopen).
 * A NUL byte cannot be part of any argument or file name, so it is refused rather than lost.
 */
export function shellQuote(value: string): string {
  if (value.includes('\0')) throw new Error('cannot pass a NUL byte to a shell command');
  if (value === '') return "''";
  // `=` is left out of SAFE_WORD on purpose: a bare `a=b` in command position is an assignment.
  if (SAFE_WORD.test(value)) return value;
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

export type ShellValue = string | number | readonly (string | number)[];

/**
 * Tagged template that quotes every interpolated value: sh`mkdir -p ${dir}` → `mkdir -p '/a b'`.
 * An array becomes its items quoted and joined by spaces (an empty array adds nothing).
 */
export function sh(strings: TemplateStringsArray, ...values: ShellValue[]): string {
  let out = strings[0] ?? '';
  values.forEach((value, i) => {
    out += quoteValue(value) + (strings[i + 1] ?? '');
  });
  return out;
}

function quoteValue(value: ShellValue): string {
  if (Array.isArray(value)) return value.map((item) => shellQuote(String(item))).join(' ');
  return shellQuote(String(value));
}
