// The runner's view of a host (src/run/remote.ts), made of an SSH connection: every script runs
// as root under `sh -eu` with a fixed PATH, and files go through the temp-verify-rename upload.
import { posix } from 'node:path';
import type { Host } from '../model.js';
import type { Connector } from '../run/orchestrate.js';
import { RemoteCommandError, tailLines, type ExecOptions, type Remote, type WriteFileOptions } from '../run/remote.js';
import { connect, newJumpPool } from './connect.js';
import type { Connection } from './connection.js';
import { download } from './download.js';
import { upload, writeFile } from './upload.js';

/** sudo's secure_path and a login shell's PATH differ between distributions; this one is fixed. */
const PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export function sshRemote(conn: Connection): Remote {
  const exec = (script: string, opts: ExecOptions = {}) =>
    conn.exec(`set -eu\nexport PATH=${PATH}\n${script}`, {
      sudo: true,
      ...(opts.env ? { env: opts.env } : {}),
      ...(opts.stdin !== undefined ? { stdin: opts.stdin } : {}),
      ...(opts.timeoutMs ? { timeoutMs: opts.timeoutMs } : {}),
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
  return {
    name: conn.name,
    loginIsRoot: conn.isRoot,
    ...(conn.hostKey ? { hostKey: conn.hostKey } : {}),
    exec,
    upload: (localPath, remotePath, opts) => upload(conn, localPath, remotePath, opts),
    download: (remotePath, localPath, opts) => download(conn, remotePath, localPath, opts),
    async writeFile(remotePath, content, opts: WriteFileOptions) {
      const signal = opts.signal ? { signal: opts.signal } : {};
      if (!opts.validate && !opts.keepPrevious) {
        await writeFile(conn, remotePath, content, { mode: opts.mode, ...signal });
        return;
      }
      // The candidate is complete and verified (by writeFile) before it is validated, and
      // validated before it replaces anything.
      const candidate = posix.join(posix.dirname(remotePath), `.${posix.basename(remotePath)}.kubeforge-candidate`);
      await writeFile(conn, candidate, content, { mode: opts.mode, ...signal });
      if (opts.validate) {
        const r = await exec(opts.validate, { env: { KF_FILE: candidate }, ...signal });
        if (r.code !== 0) {
          await exec('rm -f "$KF_FILE"', { env: { KF_FILE: candidate }, ...signal }).catch(() => undefined);
          const output = tailLines(`${r.stdout}\n${r.stderr}`);
          throw new RemoteCommandError(`${remotePath}: the new file was rejected (validate exited ${r.code}): ${output.split('\n').at(-1) ?? ''}`, r.code, output);
        }
      }
      const r = await exec(
        `if [ "$KF_KEEP" = yes ] && [ -e "$KF_DEST" ]; then cp -p "$KF_DEST" "$KF_DEST.kubeforge-prev"; fi
         mv -f "$KF_FILE" "$KF_DEST"`,
        { env: { KF_FILE: candidate, KF_DEST: remotePath, KF_KEEP: opts.keepPrevious ? 'yes' : 'no' }, ...signal },
      );
      if (r.code !== 0) throw new RemoteCommandError(`cannot put ${remotePath} in place`, r.code, tailLines(r.stderr));
    },
    close: () => conn.close(),
  };
}

/** Connects to inventory hosts with their own SSH settings (through their bastions), retrying what a retry can fix. */
export function sshConnector(): Connector {
  // One connection per bastion for all the hosts behind it; each closes with its last host.
  const jumps = newJumpPool();
  return async (host: Host, signal: AbortSignal) => {
    const conn = await connect({ host: host.address, port: host.ssh.port, name: host.name }, host.ssh, { signal, jumps });
    return sshRemote(conn);
  };
}
