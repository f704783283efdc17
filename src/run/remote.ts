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
  /** Called once the copy is growing, in order, at this path on the host (before it is verified). */
  onStaging?: (remotePath: string) => void;
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
  /** The SSH login user is root (no sudo): files it receives over a relay need no copy as root. */
  readonly loginIsRoot?: boolean;
  /** The host key verified when connecting: a peer relaying to this host pins it. */
  readonly hostKey?: { keyType: string; keyBlob: Buffer };
  /** Runs `script` with `sh -eu` as root (through sudo when the SSH user is not root). */
  exec(script: string, opts?: ExecOptions): Promise<ExecResult>;
  /** Streams a local file to remotePath (temp name, sha256 verified, renamed); skips an identical file. */
  upload(localPath: string, remotePath: string, opts: UploadOptions): Promise<'uploaded' | 'unchanged'>;
  /** Writes content to remotePath atomically: temp file (mode set first), verified, renamed. */
  writeFile(remotePath: string, content: string | Buffer, opts: WriteFileOptions): Promise<void>;
  /** Streams remotePath (read as root) into a new local file (mode 0600); returns its sha256 and size. */
  download?(remotePath: string, localPath: string, opts?: { signal?: AbortSignal }): Promise<{ sha256: string; size: number }>;
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

/** How much of a failed command's output is kept (in errors, the summary and the ledger). */
export const OUTPUT_BOUNDS = {
  /** Lines kept from the end. */
  lines: 20,
  /** UTF-8 bytes of all kept lines together, newlines included. */
  bytes: 4096,
  /** UTF-8 bytes of one line before it is cut (a 10 MB line of JSON or base64 is one line). */
  lineBytes: 512,
} as const;

export interface TailOptions {
  lines?: number;
  bytes?: number;
  lineBytes?: number;
  /** Drop lines that are empty or only blanks. */
  skipBlank?: boolean;
}

/** The start of `line` in at most `maxBytes` UTF-8 bytes, with "… (N bytes)" when it was cut. */
export function cutLine(line: string, maxBytes: number = OUTPUT_BOUNDS.lineBytes): string {
  // Most lines are short: count bytes only when the characters could exceed the limit.
  if (line.length * 3 <= maxBytes || Buffer.byteLength(line) <= maxBytes) return line;
  const total = Buffer.byteLength(line);
  const suffix = `… (${total} bytes)`;
  const room = Math.max(0, maxBytes - Buffer.byteLength(suffix));
  // encodeInto stops before a character that does not fit whole; `room` bytes hold at most
  // `room` UTF-16 units, so only that much of a huge line is looked at.
  const { read } = new TextEncoder().encodeInto(line.slice(0, room), new Uint8Array(room));
  return line.slice(0, read) + suffix;
}

/**
 * The end of a command's output, bounded in lines and in bytes: the last lines (each cut to
 * lineBytes), as many as fit in `bytes`, always at least the last one. Reads the text from its
 * end, so a megabyte of output costs only what is kept.
 */
export function boundedTail(text: string, options: TailOptions = {}): string {
  const { lines = OUTPUT_BOUNDS.lines, bytes = OUTPUT_BOUNDS.bytes, skipBlank = false } = options;
  const lineBytes = Math.min(options.lineBytes ?? OUTPUT_BOUNDS.lineBytes, bytes);
  const kept: string[] = [];
  let size = 0;
  let end = text.length;
  while (end >= 0 && kept.length < lines) {
    // lastIndexOf treats a negative position as 0: at the very start there is no line before.
    const start = end > 0 ? text.lastIndexOf('\n', end - 1) : -1;
    const line = text.slice(start + 1, end);
    end = start;
    if (skipBlank && !/\S/.test(line)) {
      if (start < 0) break;
      continue;
    }
    const cut = cutLine(line, lineBytes);
    const cost = Buffer.byteLength(cut) + (kept.length > 0 ? 1 : 0);
    if (kept.length > 0 && size + cost > bytes) break;
    kept.push(cut);
    size += cost;
    if (start < 0) break;
  }
  return kept.reverse().join('\n');
}

/** Last `n` non-empty lines of a command's output, bounded in bytes as OUTPUT_BOUNDS says. */
export function tailLines(text: string, n: number = OUTPUT_BOUNDS.lines): string {
  return boundedTail(text, { lines: n, skipBlank: true });
}
