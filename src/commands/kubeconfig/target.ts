// The kubeconfig file a merge writes to, and writing it: atomically (a temporary file in the
// same folder, fsync, rename), 0600, with the previous content kept beside it.
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { mkdir, open, readFile, realpath, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { InputError } from '../../errors.js';
import { showPath } from '../../inventory/problem.js';

/**
 * The file kubectl itself would write new entries to: the first path of $KUBECONFIG (a list
 * joined by ":"), else ~/.kube/config.
 */
export function kubeconfigTarget(env: NodeJS.ProcessEnv, home: string): string {
  const first = (env.KUBECONFIG ?? '').split(path.delimiter).find((p) => p !== '');
  return path.resolve(first ?? path.join(home, '.kube', 'config'));
}

/** Where the previous content of `file` is kept. */
export function backupPath(file: string): string {
  return `${file}.kubeforge-backup`;
}

/** The file to write: a symlink's target (a dotfiles checkout links ~/.kube/config), else `file`. */
export async function resolveTarget(file: string): Promise<string> {
  return realpath(file).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return file;
    throw err;
  });
}

/** The file's text, or undefined when it does not exist. */
export async function readKubeconfig(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    throw new InputError(showPath(file), code === 'EISDIR' ? 'is a directory, not a kubeconfig file' : `cannot be read (${code})`, 'point KUBECONFIG at a kubeconfig file');
  }
}

/** Writes `text` to `file` so that a reader sees the old content or the new one, never a part. */
export async function writeAtomically(file: string, text: string): Promise<void> {
  const dir = path.dirname(file);
  const temp = path.join(dir, `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    const handle = await open(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
    try {
      await handle.writeFile(text);
      // The umask may have narrowed the mode but never widens it; be exact.
      await handle.chmod(0o600);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, file);
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
  // The rename itself is durable once the folder is.
  const folder = await open(dir, 'r');
  try {
    await folder.sync();
  } finally {
    await folder.close();
  }
}

/**
 * Replaces `file` with `text`: its folder made (0700, as kubectl makes ~/.kube) when missing,
 * the previous content (when there was one) saved first as the backup.
 */
export async function replaceKubeconfig(file: string, text: string, previous: string | undefined): Promise<{ backup?: string }> {
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  if (previous === undefined) {
    await writeAtomically(file, text);
    return {};
  }
  const backup = backupPath(file);
  await writeAtomically(backup, previous);
  await writeAtomically(file, text);
  return { backup };
}
