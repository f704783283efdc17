// The credentials a newcomer already has: private keys in ~/.ssh, and whether a key needs a
// passphrase (asked for then, never written).
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import ssh2 from 'ssh2';

const { utils } = ssh2;

const PRIVATE_KEY_START = /^-----BEGIN (OPENSSH|RSA|EC|DSA|ENCRYPTED)? ?PRIVATE KEY-----/;
/** ssh-keygen's default names, in the order ssh(1) tries them: offered first. */
const USUAL_NAMES = ['id_ed25519', 'id_ecdsa', 'id_ed25519_sk', 'id_ecdsa_sk', 'id_rsa'];

/** Absolute paths of the private key files in `dir`, the usual names first; [] when there is no such dir. */
export async function findPrivateKeys(dir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const keys: string[] = [];
  for (const name of names.sort()) {
    if (name.endsWith('.pub') || name.startsWith('known_hosts') || name === 'authorized_keys' || name === 'config') continue;
    const head = await readFile(join(dir, name)).then(
      (data) => data.subarray(0, 64).toString('latin1'),
      () => '',
    );
    if (PRIVATE_KEY_START.test(head)) keys.push(name);
  }
  const rank = (name: string) => (USUAL_NAMES.includes(name) ? USUAL_NAMES.indexOf(name) : USUAL_NAMES.length);
  return keys.sort((a, b) => rank(a) - rank(b)).map((name) => join(dir, name));
}

/** True when the key file is encrypted, so logging in with it needs its passphrase. */
export async function keyNeedsPassphrase(file: string): Promise<boolean> {
  const parsed = utils.parseKey(await readFile(file));
  return parsed instanceof Error && /passphrase/i.test(parsed.message);
}

/** Why the passphrase does not open the key, or undefined when it does. */
export async function passphraseProblem(file: string, passphrase: string): Promise<string | undefined> {
  const parsed = utils.parseKey(await readFile(file), passphrase);
  return parsed instanceof Error ? `this passphrase does not open ${file} (${parsed.message})` : undefined;
}
