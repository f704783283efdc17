// One authenticated SSH connection to one host: run commands and open SFTP through it, never
// more channels at once than the server allows.

import pLimit, { type LimitFunction } from 'p-limit';
import type { Client, SFTPWrapper } from 'ssh2';
import { CommandError, ConnectError } from './errors.js';
import { runCommand, type ExecOptions, type ExecResult } from './exec.js';
import { lastLines } from './output-tail.js';
import { killSessionCommand } from './remote-command.js';

export type { ExecOptions, ExecResult } from './exec.js';

/**
 * sshd allows 10 sessions per connection (MaxSessions) and every exec and sftp takes one. We use
 * 8 and keep the last ones free for killing a command that hangs while all 8 are busy.
 */
export const CHANNEL_LIMIT = 8;
const KILL_TIMEOUT_MS = 10_000;
const TAIL_LINES = 20;

export interface ConnectionIdentity {
  /** Host name from the inventory, used in every message. */
  name: string;
  /** Login user. */
  user: string;
  /** The login user has uid 0: sudo is not needed (and not used). */
  isRoot: boolean;
  sudoPassword?: string;
  /** The host key this connection verified (type and wire-format blob). */
  hostKey?: { keyType: string; keyBlob: Buffer };
}

export class Connection {
  readonly name: string;
  readonly user: string;
  readonly isRoot: boolean;
  readonly hostKey: { keyType: string; keyBlob: Buffer } | undefined;
  private readonly sudoPassword: string | undefined;
  private readonly channels: LimitFunction = pLimit(CHANNEL_LIMIT);
  private closed = false;
  private lastError: Error | undefined;

  constructor(
    private readonly client: Client,
    identity: ConnectionIdentity,
  ) {
    this.name = identity.name;
    this.user = identity.user;
    this.isRoot = identity.isRoot;
    this.hostKey = identity.hostKey;
    this.sudoPassword = identity.sudoPassword;
    // ssh2 emits 'error' on the client for a dropped connection; without a listener Node would
    // crash the process. Running commands learn about it through their channel closing.
    client.on('error', (err: Error) => {
      this.lastError = err;
    });
    client.on('close', () => {
      this.closed = true;
    });
  }

  /** Run `command` with `sh -c` on the host. Resolves with any exit code; see execOrThrow. */
  exec(command: string, options: ExecOptions = {}): Promise<ExecResult> {
    return this.channels(() => this.run(command, options, true));
  }

  /** exec, but a non-zero exit becomes a CommandError with the end of both outputs. */
  async execOrThrow(command: string, options: ExecOptions = {}): Promise<ExecResult> {
    const result = await this.exec(command, options);
    if (result.code !== 0) {
      throw new CommandError(
        this.name,
        command,
        result.code,
        result.signal,
        lastLines(result.stdout, TAIL_LINES),
        lastLines(result.stderr, TAIL_LINES),
      );
    }
    return result;
  }

  /** Open an SFTP session for `use` and close it afterwards; it counts against the channel limit. */
  withSftp<T>(use: (sftp: SFTPWrapper) => Promise<T>): Promise<T> {
    return this.channels(async () => {
      this.assertOpen();
      const sftp = await new Promise<SFTPWrapper>((resolve, reject) => {
        this.client.sftp((err, opened) => (err ? reject(this.lostError(err)) : resolve(opened)));
      });
      try {
        return await use(sftp);
      } finally {
        sftp.end();
      }
    });
  }

  close(): void {
    this.closed = true;
    this.client.end();
  }

  private run(command: string, options: ExecOptions, killable: boolean): Promise<ExecResult> {
    this.assertOpen();
    const viaSudo = options.sudo === true && !this.isRoot;
    return runCommand(this.client, {
      ...options,
      command,
      host: this.name,
      viaSudo,
      ...(this.sudoPassword !== undefined ? { sudoPassword: this.sudoPassword } : {}),
      ...(killable
        ? {
            // Outside the channel limiter on purpose (see CHANNEL_LIMIT); the processes of a sudo
            // command belong to root, so the kill needs sudo as well.
            killSession: async (sid: number) => {
              await this.run(killSessionCommand(sid), { sudo: viaSudo, timeoutMs: KILL_TIMEOUT_MS }, false);
            },
          }
        : {}),
    });
  }

  private assertOpen(): void {
    if (this.closed) throw this.lostError(undefined);
  }

  private lostError(cause: Error | undefined): ConnectError {
    const why = cause?.message ?? this.lastError?.message ?? 'the connection is closed';
    return new ConnectError(`${this.name}: ${why}`, undefined, false, cause ?? this.lastError);
  }
}
