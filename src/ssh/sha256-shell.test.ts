// kf_sha256 run by a real sh, with openssl on the PATH and without it: the same digest as Node's.
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SHA256_FUNCTION } from './sha256-shell.js';

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'kf-sha256-'));
afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

/** A PATH holding only the named tools (links to this machine's), so presence is what we say. */
function pathWith(tools: string[]): string {
  const dir = fs.mkdtempSync(path.join(scratch, 'bin-'));
  for (const t of tools) {
    const real = execFileSync('sh', ['-c', `command -v ${t}`], { encoding: 'utf8' }).trim();
    fs.symlinkSync(real, path.join(dir, t));
  }
  return dir;
}

function hashWith(tools: string[], data: Buffer): string {
  const file = path.join(scratch, 'data');
  fs.writeFileSync(file, data);
  const sh = execFileSync('sh', ['-c', 'command -v sh'], { encoding: 'utf8' }).trim();
  return execFileSync(sh, ['-euc', `${SHA256_FUNCTION}\nkf_sha256 <"$1"`, 'sh', file], { encoding: 'utf8', env: { PATH: pathWith(tools) }, stdio: ['ignore', 'pipe', 'pipe'] });
}

describe('kf_sha256', () => {
  const data = randomBytes(300_000);
  const expected = `${createHash('sha256').update(data).digest('hex')}\n`;

  it('prints the bare digest with openssl', () => {
    expect(hashWith(['openssl'], data)).toBe(expected);
  });

  it('prints the same digest with only coreutils sha256sum', () => {
    expect(hashWith(['sha256sum'], data)).toBe(expected);
  });

  it('prints the digest of an empty input', () => {
    expect(hashWith(['sha256sum'], Buffer.alloc(0))).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n');
  });

  it('fails when neither tool is there', () => {
    expect(() => hashWith([], data)).toThrow();
  });
});
