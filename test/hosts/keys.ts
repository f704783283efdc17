import fs from 'node:fs/promises';
import path from 'node:path';
import { run } from './exec.js';

/** Generate an ed25519 key pair at `file` (and file.pub); returns the public line. */
export async function generateKey(file: string, comment: string): Promise<string> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  await fs.rm(file, { force: true });
  await fs.rm(`${file}.pub`, { force: true });
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', file]);
  await fs.chmod(file, 0o600);
  return (await fs.readFile(`${file}.pub`, 'utf8')).trim().split(' ').slice(0, 2).join(' ');
}
