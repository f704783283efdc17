// Fetch a file from a host to this machine over SFTP, streamed (a multi-gigabyte etcd snapshot
// is never held in memory), hashed while it arrives. Files only root may read (a snapshot, the
// PKI) are first copied, as root, into a private directory the login user owns; the copy is
// removed afterwards. The local file is written where the caller says, mode 0600 from its
// creation: the caller writes to a temporary name and renames it when everything checks out.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { Transform } from 'node:stream';
import { posix } from 'node:path';
import type { Connection } from './connection.js';
import { AbortError } from './errors.js';
import { sh } from './quote.js';

export interface DownloadOptions {
  signal?: AbortSignal;
}

export interface Downloaded {
  sha256: string;
  size: number;
}

export async function download(conn: Connection, remotePath: string, localPath: string, options: DownloadOptions = {}): Promise<Downloaded> {
  const { signal } = options;
  const what = `download of ${remotePath}`;
  if (signal?.aborted) throw new AbortError(conn.name, what);
  let source = remotePath;
  let stageDir: string | undefined;
  try {
    if (!conn.isRoot) {
      const made = await conn.execOrThrow('mktemp -d "${TMPDIR:-/tmp}/kubeforge-download.XXXXXXXX"', signal ? { signal } : {});
      stageDir = made.stdout.trim().split('\n').at(-1)!;
      source = posix.join(stageDir, posix.basename(remotePath));
      await conn.execOrThrow(sh`cp -- ${remotePath} ${source}\nchown -- ${conn.user} ${source}\nchmod 0600 -- ${source}`, { sudo: true, ...(signal ? { signal } : {}) });
    }
    return await conn.withSftp(async (sftp) => {
      const hash = createHash('sha256');
      let size = 0;
      const count = new Transform({
        transform(chunk: Buffer, _enc, done) {
          hash.update(chunk);
          size += chunk.length;
          done(null, chunk);
        },
      });
      const reader = sftp.createReadStream(source, { highWaterMark: 256 * 1024 });
      // A connection that dies mid-transfer closes the channel: the pipeline must not wait forever.
      const lost = new Promise<never>((_, reject) => sftp.once('close', () => reject(new Error(`the SSH connection was lost during the ${what}`))));
      lost.catch(() => undefined);
      const writer = fs.createWriteStream(localPath, { mode: 0o600, flags: 'wx' });
      await Promise.race([signal ? pipeline(reader, count, writer, { signal }) : pipeline(reader, count, writer), lost]);
      return { sha256: hash.digest('hex'), size };
    });
  } catch (err) {
    if (signal?.aborted) throw new AbortError(conn.name, what);
    throw err;
  } finally {
    if (stageDir) await conn.exec(sh`rm -rf -- ${stageDir}`, {}).catch(() => undefined);
  }
}
