// Putting the inventory in place: written to a temporary file beside it, validated there (so
// relative paths mean what they will mean), then given its name in one step. An interrupted or
// failed write leaves no file behind, and an existing file is only replaced when allowed.
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { link, rename, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { InputError, InterruptedError } from '../../errors.js';

export interface WriteOptions {
  /** Replace an existing file (the user agreed); otherwise an existing file is never touched. */
  overwrite: boolean;
  /** Checks the temporary file before it gets its name; throwing stops the write. */
  validate(tempPath: string): Promise<void>;
  /** Aborted (Ctrl-C): stop, and remove the temporary file. */
  signal?: AbortSignal;
}

/** The temporary name used for `file`: hidden, in the same directory, unique to this write. */
export function tempPathFor(file: string): string {
  return join(dirname(file), `.${basename(file)}.kubeforge-init-${process.pid}-${randomBytes(4).toString('hex')}.tmp`);
}

export async function writeInventoryFile(file: string, text: string, options: WriteOptions): Promise<void> {
  const temp = tempPathFor(file);
  // Also on process.exit() (a second Ctrl-C), which skips every finally block.
  const removeTemp = () => rmSync(temp, { force: true });
  process.on('exit', removeTemp);
  try {
    await writeFile(temp, text, { flag: 'wx', mode: 0o644 });
    await untilAborted(options.validate(temp), options.signal);
    if (options.overwrite) await rename(temp, file);
    else await linkWithoutReplacing(temp, file);
  } finally {
    process.off('exit', removeTemp);
    await rm(temp, { force: true });
  }
}

function untilAborted<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return work;
  if (signal.aborted) return Promise.reject(new InterruptedError());
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new InterruptedError());
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** link(2) fails when the name exists: no window in which a file created meanwhile is replaced. */
async function linkWithoutReplacing(temp: string, file: string): Promise<void> {
  try {
    await link(temp, file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') throw existsError(file);
    // File systems without hard links: check, then rename (a small window, but never silent).
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'EXDEV') throw err;
    if (await stat(file).then(() => true, () => false)) throw existsError(file);
    await rename(temp, file);
    return;
  }
  await unlink(temp);
}

function existsError(file: string): InputError {
  return new InputError(file, 'exists (it was created while kubeforge init ran); it was left as it is', 'choose another file, or pass --force to replace it');
}
