// Checks on files the inventory names (bundles, private keys) before anything is read or sent,
// each returning what is wrong and how to fix it, or undefined when the file is usable.
import { constants } from 'node:fs';
import { access, open, stat } from 'node:fs/promises';
import { showPath } from './problem.js';

export interface FileProblem {
  message: string;
  hint: string;
}

function code(err: unknown): string {
  return (err as NodeJS.ErrnoException).code ?? String(err);
}

/** Exists, is a regular file, and this process can read it. */
export async function readableFileProblem(path: string, what: string, notFoundHint: string): Promise<FileProblem | undefined> {
  let info;
  try {
    info = await stat(path);
  } catch (err) {
    if (code(err) === 'ENOENT') return { message: `${what} ${showPath(path)} does not exist`, hint: notFoundHint };
    return { message: `${what} ${showPath(path)} cannot be examined (${code(err)})`, hint: 'check the permissions of the directories above it' };
  }
  if (info.isDirectory()) {
    return { message: `${what} ${showPath(path)} is a directory, not a file`, hint: 'name the file itself, not the directory holding it' };
  }
  if (!info.isFile()) return { message: `${what} ${showPath(path)} is not a regular file`, hint: 'name a regular file' };
  try {
    await access(path, constants.R_OK);
  } catch (err) {
    return { message: `${what} ${showPath(path)} cannot be read (${code(err)})`, hint: `check the owner and permissions of ${showPath(path)}` };
  }
  return undefined;
}

const PUBLIC_KEY_START = /^(ssh-|ecdsa-|sk-ssh-|sk-ecdsa-)/;

/** A readable private key that only its owner can open, as OpenSSH insists. */
export async function privateKeyProblem(path: string, notFoundHint: string): Promise<FileProblem | undefined> {
  const basic = await readableFileProblem(path, 'key file', notFoundHint);
  if (basic) return basic;
  // A .pub file is usually 0644; saying "public key" is the useful message, not the mode.
  const handle = await open(path, 'r');
  try {
    const { buffer, bytesRead } = await handle.read(Buffer.alloc(32), 0, 32, 0);
    if (PUBLIC_KEY_START.test(buffer.subarray(0, bytesRead).toString('latin1'))) {
      return {
        message: `key file ${showPath(path)} holds a public key; keyFile must name the private key`,
        hint: path.endsWith('.pub') ? `use ${showPath(path.slice(0, -'.pub'.length))}` : 'name the private key file (the one without .pub)',
      };
    }
  } finally {
    await handle.close();
  }
  const { mode } = await stat(path);
  if ((mode & 0o077) !== 0) {
    const octal = (mode & 0o777).toString(8).padStart(4, '0');
    return {
      message: `private key ${showPath(path)} is readable by group or others (mode ${octal}); SSH refuses keys like that`,
      hint: `chmod 600 ${showPath(path)}`,
    };
  }
  return undefined;
}
