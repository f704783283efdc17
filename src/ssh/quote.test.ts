import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { sh, shellQuote } from './quote.js';

/** What a real POSIX shell makes of `script`: the bytes printf wrote. */
function shellOutput(script: string): string {
  return execFileSync('sh', ['-c', script], { encoding: 'utf8' });
}

const NASTY = [
  '',
  ' ',
  "it's",
  "'",
  "''",
  '"double"',
  '$(echo injected)',
  '`echo injected`',
  '${HOME}',
  '$HOME',
  'a; echo injected',
  'a && echo injected',
  'a | cat',
  'line1\nline2\n',
  '\ttab',
  '*',
  '~',
  '~root',
  '-n',
  'a=b',
  '!',
  '\\',
  '\\n',
  '%s%d',
  'ünïcødé ✓',
  "mixed 'single' and \"double\" and $(x) and `y`",
];

describe('shellQuote', () => {
  it.each(NASTY)('round-trips %j through a real sh unchanged', (value) => {
    expect(shellOutput(`printf %s ${shellQuote(value)}`)).toBe(value);
  });

  it('passes all nasty values as separate arguments', () => {
    const script = `for a in ${NASTY.map(shellQuote).join(' ')}; do printf '[%s]' "$a"; done`;
    expect(shellOutput(script)).toBe(NASTY.map((v) => `[${v}]`).join(''));
  });

  it('leaves plain words bare and quotes the rest', () => {
    expect(shellQuote('/etc/containerd/config.toml')).toBe('/etc/containerd/config.toml');
    expect(shellQuote('v1.30.2+k3s')).toBe('v1.30.2+k3s');
    expect(shellQuote('')).toBe("''");
    expect(shellQuote('a b')).toBe("'a b'");
    expect(shellQuote("it's")).toBe("'it'\\''s'");
    // bare `a=b` in command position would be an assignment
    expect(shellQuote('a=b')).toBe("'a=b'");
  });

  it('refuses NUL bytes instead of truncating', () => {
    expect(() => shellQuote('a\0b')).toThrow(/NUL/);
  });
});

describe('sh template', () => {
  it('quotes every interpolated value and keeps the template text', () => {
    const dir = "/tmp/it's here";
    expect(sh`mkdir -p -- ${dir} && echo ${'$(x)'}`).toBe(`mkdir -p -- '/tmp/it'\\''s here' && echo '$(x)'`);
  });

  it('expands arrays to separately quoted words, numbers as text', () => {
    expect(sh`modprobe ${['overlay', 'br netfilter']} ${2}`).toBe("modprobe overlay 'br netfilter' 2");
    expect(sh`true ${[]}`).toBe('true ');
  });

  it('produces commands a shell runs with exactly the given arguments', () => {
    const args = ['a b', "c'd", '$(e)', ''];
    expect(shellOutput(sh`printf '<%s>' ${args}`)).toBe('<a b><c\'d><$(e)><>');
  });

  it('refuses NUL inside arrays too', () => {
    expect(() => sh`echo ${['ok', 'bad\0']}`).toThrow(/NUL/);
  });
});
