// What the runner needs of a host: run a script as root, send a bundle, write a file. The SSH
// layer provides it (src/ssh/remote.ts); the runner and the cluster phase see only this.

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface ExecOptions {
  /** Given to the script on standard input (how secrets reach a host: never in argv). */
  stdin?: string | Buffer;
  /** Exported to the script, each value quoted: never spliced into the script text. */
  env?: Record<string, string>;
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface UploadOptions {
  sha256: string;
  size: number;
  mode?: number;
  onProgress?: (sent: number, total: number) => void;
  signal?: AbortSignal;
}

export interface WriteFileOptions {
  mode: number;
  /** A command that must accept the candidate (at $KF_FILE) before it replaces the old file. */
  validate?: string;
  /** Keep the replaced file as PATH.kubeforge-prev, for a rollback. */
  keepPrevious?: boolean;
  signal?: AbortSignal;
}

export interface Remote {
  readonly name: string;
  /** Runs `script` with `sh -eu` as root (through sudo when the SSH user is not root). */
  exec(script: string, opts?: ExecOptions): Promise<ExecResult>;
  /** Streams a local file to remotePath (temp name, sha256 verified, renamed); skips an identical file. */
  upload(localPath: string, remotePath: string, opts: UploadOptions): Promise<'uploaded' | 'unchanged'>;
  /** Writes content to remotePath atomically: temp file (mode set first), verified, renamed. */
  writeFile(remotePath: string, content: string | Buffer, opts: WriteFileOptions): Promise<void>;
  close(): void;
}

/** A remote command that failed, with what it printed (already redacted of secrets). */
export class RemoteCommandError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
    readonly output: string,
  ) {
    super(message);
    this.name = 'RemoteCommandError';
  }
}

/** Last `n` non-empty lines of a command's output. */
export function tailLines(text: string, n = 20): string {
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .slice(-n)
    .join('\n');
}
