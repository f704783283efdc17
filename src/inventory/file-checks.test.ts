import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { privateKeyProblem, readableFileProblem } from './file-checks.js';

const dir = mkdtempSync(join(tmpdir(), 'kubeforge-files-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, content: string, mode: number): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  chmodSync(path, mode);
  return path;
}

describe('readableFileProblem', () => {
  it('accepts a readable regular file', async () => {
    expect(await readableFileProblem(file('ok.tgz', 'x', 0o644), 'bundle file', 'hint')).toBeUndefined();
  });

  it('reports a missing file with the caller’s hint', async () => {
    const path = join(dir, 'missing.tgz');
    expect(await readableFileProblem(path, 'bundle file', 'look elsewhere')).toEqual({ message: `bundle file ${path} does not exist`, hint: 'look elsewhere' });
  });

  it('reports a directory where a file was expected', async () => {
    const path = join(dir, 'a-directory.tgz');
    mkdirSync(path);
    expect((await readableFileProblem(path, 'bundle file', 'hint'))?.message).toBe(`bundle file ${path} is a directory, not a file`);
  });

  it.skipIf(process.getuid?.() === 0)('reports a file this user cannot read (not testable as root)', async () => {
    const path = file('locked.tgz', 'x', 0o000);
    expect((await readableFileProblem(path, 'bundle file', 'hint'))?.message).toMatch(/cannot be read \(EACCES\)/);
  });
});

describe('privateKeyProblem', () => {
  const key = '-----BEGIN OPENSSH PRIVATE KEY-----\n';

  it('accepts a key only its owner can read', async () => {
    expect(await privateKeyProblem(file('id_ok', key, 0o600), 'hint')).toBeUndefined();
    expect(await privateKeyProblem(file('id_ro', key, 0o400), 'hint')).toBeUndefined();
  });

  it('rejects a key group or others can open, with the chmod to fix it', async () => {
    for (const mode of [0o644, 0o640, 0o604, 0o660]) {
      const path = file(`id_${mode.toString(8)}`, key, mode);
      expect(await privateKeyProblem(path, 'hint')).toEqual({
        message: `private key ${path} is readable by group or others (mode 0${mode.toString(8)}); SSH refuses keys like that`,
        hint: `chmod 600 ${path}`,
      });
    }
  });

  it('recognises a public key given as keyFile', async () => {
    const path = file('id_ed25519.pub', 'ssh-ed25519 AAAAC3Nza test\n', 0o644);
    expect(await privateKeyProblem(path, 'hint')).toEqual({
      message: `key file ${path} holds a public key; keyFile must name the private key`,
      hint: `use ${join(dir, 'id_ed25519')}`,
    });
  });

  it('reports a missing key file', async () => {
    expect((await privateKeyProblem(join(dir, 'id_none'), 'hint'))?.message).toMatch(/^key file .*id_none does not exist$/);
  });
});
