import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ssh2 from 'ssh2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findPrivateKeys, keyNeedsPassphrase, passphraseProblem } from './ssh-keys.js';

const { utils } = ssh2;

describe('keys in ~/.ssh', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kf-keys-'));
    const plain = utils.generateKeyPairSync('ed25519');
    const locked = utils.generateKeyPairSync('ed25519', { passphrase: 'pw', cipher: 'aes256-cbc', rounds: 2 });
    await writeFile(join(dir, 'work_key'), plain.private, { mode: 0o600 });
    await writeFile(join(dir, 'work_key.pub'), plain.public);
    await writeFile(join(dir, 'id_rsa'), plain.private, { mode: 0o600 });
    await writeFile(join(dir, 'id_ed25519'), locked.private, { mode: 0o600 });
    await writeFile(join(dir, 'known_hosts'), 'host ssh-ed25519 AAAA\n');
    await writeFile(join(dir, 'config'), 'Host *\n');
    await writeFile(join(dir, 'notes.txt'), 'hello\n');
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('finds the private keys, usual names first in the order ssh tries them', async () => {
    expect(await findPrivateKeys(dir)).toEqual([join(dir, 'id_ed25519'), join(dir, 'id_rsa'), join(dir, 'work_key')]);
    expect(await findPrivateKeys(join(dir, 'missing'))).toEqual([]);
  });

  it('tells an encrypted key, and whether a passphrase opens it', async () => {
    expect(await keyNeedsPassphrase(join(dir, 'id_ed25519'))).toBe(true);
    expect(await keyNeedsPassphrase(join(dir, 'id_rsa'))).toBe(false);
    expect(await passphraseProblem(join(dir, 'id_ed25519'), 'pw')).toBeUndefined();
    expect(await passphraseProblem(join(dir, 'id_ed25519'), 'nope')).toMatch(/^this passphrase does not open .*id_ed25519/);
  });
});
