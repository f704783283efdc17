// Put files on a host so that the final path only ever holds a complete, verified file: write a
// temporary file beside it, check its SHA-256 on the host, set its mode, then rename it into
// place (rename within one directory is atomic). On any failure or abort the temporary file is
// removed, best effort, and the error is rethrown.

import { randomBytes, createHash } from 'node:crypto';
import { createReadStream, type ReadStream } from 'node:fs';
import { posix } from 'node:path';
import type { SFTPWrapper } from 'ssh2';
import type { Connection } from './connection.js';
import { AbortError, UploadError } from './errors.js';
import { sh } from './quote.js';
import { SHA256_FUNCTION } from './sha256-shell.js';

export interface UploadOptions {
  /** Hex SHA-256 of the local file (the bundle's recorded hash). */
  sha256: string;
  size: number;
  /** Permission bits of the final file; default 0644. */
  mode?: number;
  onProgress?(sent: number, total: number): void;
  /** Called once the copy is growing, in order, at this path on the host (before it is verified). */
  onStaging?(remotePath: string): void;
  signal?: AbortSignal;
}

export interface WriteFileOptions {
  mode: number;
  signal?: AbortSignal;
}

const DEFAULT_MODE = 0o644;
/** 64 requests of 31 KiB in flight: ~2 MiB buffered, enough to fill a fast link. */
const SFTP_CONCURRENCY = 64;
/**
 * Below ssh2's smallest write size (34000 bytes less 2 KiB of overhead for servers other than
 * OpenSSH): a larger chunk is split, and its tail sent only after the head is acknowledged,
 * behind later chunks, which would leave a hole in a file that a peer streams on.
 */
const SFTP_CHUNK_SIZE = 31 * 1024;
/** How long to wait for the server to close an aborted SFTP session before cleaning up anyway. */
const SFTP_CLOSE_WAIT_MS = 5000;
/** finalize scripts exit with this when the temporary file's hash is wrong. */
const EXIT_HASH_MISMATCH = 3;

/**
 * Upload a local file (streamed by SFTP, never read whole into memory) unless the host already
 * has it with this hash. Returns 'unchanged' when the content matched (a wrong mode is fixed).
 */
export async function upload(
  conn: Connection,
  localPath: string,
  remotePath: string,
  options: UploadOptions,
): Promise<'uploaded' | 'unchanged'> {
  const mode = checkMode(options.mode ?? DEFAULT_MODE);
  const { dir, base } = splitRemotePath(remotePath);
  const { signal } = options;
  const what = `upload of ${remotePath}`;
  if (signal?.aborted) throw new AbortError(conn.name, what);

  const present = await remoteState(conn, remotePath, signal);
  if (present?.sha256 === options.sha256.toLowerCase()) {
    if (present.mode !== mode) await conn.execOrThrow(sh`chmod ${octal(mode)} ${remotePath}`, { sudo: true, signal });
    return 'unchanged';
  }

  const temp = posix.join(dir, tempName(base));
  // SFTP writes as the login user; a non-root user stages the file in a private directory and
  // root copies it beside the destination.
  let stageDir: string | undefined;
  try {
    let sftpTarget = temp;
    if (conn.isRoot) {
      await conn.execOrThrow(sh`mkdir -p -- ${dir}`, { signal });
    } else {
      const made = await conn.execOrThrow('mktemp -d "${TMPDIR:-/tmp}/kubeforge-upload.XXXXXXXX"', { signal });
      stageDir = lastLine(made.stdout);
      sftpTarget = posix.join(stageDir, base);
    }
    await conn.withSftp((sftp) =>
      putFile(sftp, localPath, sftpTarget, options, () => new AbortError(conn.name, what)),
    );
    if (signal?.aborted) throw new AbortError(conn.name, what);
    const copyStaged = stageDir
      ? sh`mkdir -p -- ${dir}\n(umask 077 && cp -- ${sftpTarget} ${temp})\n`
      : '';
    await finalize(conn, copyStaged, temp, remotePath, options.sha256, mode, signal);
    return 'uploaded';
  } catch (err) {
    await removeQuietly(conn, temp, true);
    throw wrapUploadError(conn, err, `${what} from ${localPath}`);
  } finally {
    if (stageDir) await removeQuietly(conn, stageDir, false);
  }
}

/**
 * Write small rendered content (configs, units, secrets) to the host, with the same discipline
 * as upload(). The temporary file is created under umask 077 and chmod-ed before the rename, so
 * a 0600 secret is never readable by others, not even for a moment.
 */
export async function writeFile(
  conn: Connection,
  remotePath: string,
  content: string | Buffer,
  options: WriteFileOptions,
): Promise<'written' | 'unchanged'> {
  const mode = checkMode(options.mode);
  const { dir, base } = splitRemotePath(remotePath);
  const bytes = typeof content === 'string' ? Buffer.from(content) : content;
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const temp = posix.join(dir, tempName(base));
  const script = [
    'set -e',
    SHA256_FUNCTION,
    sh`dest=${remotePath}; tmp=${temp}`,
    // Same bytes and mode already there: nothing to do (stdin is drained so the sender is not cut off).
    sh`if [ -f "$dest" ] && [ "$(kf_sha256 <"$dest")" = ${sha256} ] && [ "$(stat -c %a -- "$dest")" = ${octal(mode)} ]; then cat >/dev/null; echo unchanged; exit 0; fi`,
    sh`mkdir -p -- ${dir}`,
    sh`(umask 077 && cat >"$tmp")`,
    '',
  ].join('\n');
  try {
    const result = await conn.exec(
      script + finalizeScript(temp, remotePath, sha256, mode) + 'echo written\n',
      { sudo: true, stdin: bytes, ...(options.signal ? { signal: options.signal } : {}) },
    );
    checkFinalized(conn, result, remotePath, sha256);
    return lastLine(result.stdout) === 'unchanged' ? 'unchanged' : 'written';
  } catch (err) {
    await removeQuietly(conn, temp, true);
    throw err;
  }
}

/** SHA-256 and permission bits of a regular file on the host, or undefined if there is none. */
async function remoteState(
  conn: Connection,
  path: string,
  signal: AbortSignal | undefined,
): Promise<{ sha256: string; mode: number } | undefined> {
  const result = await conn.execOrThrow(
    `${SHA256_FUNCTION}\n` + sh`f=${path}` + '\nif [ -f "$f" ]; then kf_sha256 <"$f"; stat -c %a -- "$f"; fi',
    { sudo: true, ...(signal ? { signal } : {}) },
  );
  const [hashLine, modeLine] = result.stdout.trim().split('\n').slice(-2);
  const sha256 = hashLine?.split(/\s+/)[0];
  if (!sha256 || !modeLine) return undefined;
  return { sha256: sha256.toLowerCase(), mode: parseInt(modeLine, 8) };
}

/**
 * Streams the file with many write requests in flight, issued in file order: OpenSSH's
 * sftp-server handles them one after another, so the remote file grows in order and a peer can
 * pass it on while it arrives (relay cut-through). ssh2's fastPut issues each write when its
 * local read completes, which can be out of order and leave a short-lived hole. Abort ends the
 * SFTP session.
 */
function putFile(
  sftp: SFTPWrapper,
  localPath: string,
  remotePath: string,
  options: UploadOptions,
  abortError: () => Error,
): Promise<void> {
  const { signal, onProgress } = options;
  return new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(abortError());
    let aborted = false;
    let settled = false;
    let input: ReadStream | undefined;
    const fail = (err: Error) => {
      if (aborted || settled) return;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      input?.destroy();
      reject(err);
    };
    const closed = new Promise<void>((done) => sftp.once('close', () => done()));
    // A connection that dies mid-transfer closes the SFTP channel without a write ever calling
    // back: without this the upload would wait forever.
    void closed.then(() => fail(new UploadError(`the SSH connection was lost during the upload of ${remotePath}`)));
    const onAbort = () => {
      if (settled) return;
      aborted = true;
      input?.destroy();
      sftp.end();
      // Reject only once the server closed the session, so no late write lands after the cleanup.
      const gaveUp = new Promise<void>((done) => setTimeout(done, SFTP_CLOSE_WAIT_MS).unref());
      void Promise.race([closed, gaveUp]).then(() => reject(abortError()));
    };
    signal?.addEventListener('abort', onAbort, { once: true });

    // Private until finalize sets the real mode.
    sftp.open(remotePath, 'w', { mode: 0o600 }, (openErr, handle) => {
      if (openErr) return fail(openErr);
      if (aborted || settled) return;
      options.onStaging?.(remotePath);
      const stream = createReadStream(localPath, { highWaterMark: SFTP_CHUNK_SIZE });
      input = stream;
      let offset = 0;
      let sent = 0;
      let inFlight = 0;
      let ended = false;
      const finish = () => {
        sftp.close(handle, (closeErr) => {
          if (closeErr) return fail(closeErr);
          if (aborted || settled) return;
          settled = true;
          signal?.removeEventListener('abort', onAbort);
          resolve();
        });
      };
      stream.on('error', fail);
      stream.on('end', () => {
        ended = true;
        if (inFlight === 0) finish();
      });
      stream.on('data', (chunk) => {
        const bytes = chunk as Buffer;
        const at = offset;
        offset += bytes.length;
        inFlight++;
        if (inFlight >= SFTP_CONCURRENCY) stream.pause();
        sftp.write(handle, bytes, 0, bytes.length, at, (writeErr) => {
          inFlight--;
          if (writeErr) return fail(writeErr);
          if (aborted || settled) return;
          sent += bytes.length;
          onProgress?.(sent, options.size);
          if (ended) {
            if (inFlight === 0) finish();
          } else if (stream.isPaused() && inFlight < SFTP_CONCURRENCY) {
            stream.resume();
          }
        });
      });
    });
  });
}

/** Run as root, stopping at the first failure: (prepare;) verify the temporary file's hash, set its mode, rename it into place. */
async function finalize(
  conn: Connection,
  prepare: string,
  temp: string,
  dest: string,
  sha256: string,
  mode: number,
  signal: AbortSignal | undefined,
): Promise<void> {
  const result = await conn.exec('set -e\n' + prepare + finalizeScript(temp, dest, sha256, mode), {
    sudo: true,
    ...(signal ? { signal } : {}),
  });
  checkFinalized(conn, result, dest, sha256);
}

function finalizeScript(temp: string, dest: string, sha256: string, mode: number): string {
  return [
    SHA256_FUNCTION,
    sh`actual=$(kf_sha256 <${temp})`,
    sh`if [ "$actual" != ${sha256.toLowerCase()} ]; then echo "sha256 $actual" >&2; exit ${EXIT_HASH_MISMATCH}; fi`,
    sh`chmod ${octal(mode)} ${temp}`,
    sh`mv -f -- ${temp} ${dest}`,
    '',
  ].join('\n');
}

function checkFinalized(
  conn: Connection,
  result: { code: number; stdout: string; stderr: string },
  dest: string,
  sha256: string,
): void {
  if (result.code === 0) return;
  if (result.code === EXIT_HASH_MISMATCH) {
    const got = /sha256 ([0-9a-f]+)/.exec(result.stderr)?.[1] ?? 'something else';
    throw new UploadError(
      `${conn.name}: ${dest} arrived with sha256 ${got}, expected ${sha256}`,
      'the local file may have changed during the upload; rerun',
    );
  }
  throw new UploadError(`${conn.name}: could not put ${dest} in place (exit ${result.code}): ${lastLine(result.stderr)}`);
}

async function removeQuietly(conn: Connection, path: string, asRoot: boolean): Promise<void> {
  // Not tied to the caller's signal: an aborted upload must still clean up after itself.
  await conn.exec(sh`rm -rf -- ${path}`, { sudo: asRoot, timeoutMs: 30_000 }).catch(() => undefined);
}

function wrapUploadError(conn: Connection, err: unknown, what: string): unknown {
  if (!(err instanceof Error) || err.name !== 'Error') return err;
  // A bare Error here comes from SFTP (permission denied, no space left …).
  return new UploadError(`${conn.name}: ${what} failed: ${err.message}`);
}

function splitRemotePath(path: string): { dir: string; base: string } {
  if (!posix.isAbsolute(path) || path.endsWith('/')) {
    throw new Error(`remote path must be an absolute file path, got ${JSON.stringify(path)}`);
  }
  return { dir: posix.dirname(path), base: posix.basename(path) };
}

/** `.<name>.kubeforge-<random>.tmp`: hidden, recognisable, and unique per attempt. */
function tempName(base: string): string {
  return `.${base}.kubeforge-${randomBytes(6).toString('hex')}.tmp`;
}

function checkMode(mode: number): number {
  if (!Number.isInteger(mode) || mode < 0 || mode > 0o7777) throw new Error(`invalid file mode ${mode}`);
  return mode;
}

function octal(mode: number): string {
  return mode.toString(8);
}

/** The last line of output: what our script printed, after anything a chatty login shell added. */
function lastLine(text: string): string {
  return text.trim().split('\n').pop() ?? '';
}
