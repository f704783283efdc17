// One authenticated SSH connection to one host: run commands and open SFTP through it, never
// more channels at once than the server allows.

import type { Duplex } from 'node:stream';
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
/** How long a lost connection behind a bastion waits for the bastion's own verdict before speaking. */
const TUNNEL_SETTLE_MS = 250;

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
  /**
   * For a connection tunnelled through bastions: why the path died, once a bastion's connection
   * has (so a lost connection is reported as that bastion's failure, not as this host's).
   */
  tunnelFailure?: () => Error | undefined;
}

export class Connection {
  readonly name: string;
  readonly user: string;
  readonly isRoot: boolean;
  readonly hostKey: { keyType: string; keyBlob: Buffer } | undefined;
  private readonly sudoPassword: string | undefined;
  private readonly channels: LimitFunction = pLimit(CHANNEL_LIMIT);
  private closed = false;
  /** The peer ended the connection: set before ssh2 tears down the channels, so before they fail. */
  private ended = false;
  private lastError: Error | undefined;
  private readonly tunnelFailure: (() => Error | undefined) | undefined;
  private readonly closeListeners: Array<() => void> = [];

  constructor(
    private readonly client: Client,
    identity: ConnectionIdentity,
  ) {
    this.name = identity.name;
    this.user = identity.user;
    this.isRoot = identity.isRoot;
    this.hostKey = identity.hostKey;
    this.sudoPassword = identity.sudoPassword;
    this.tunnelFailure = identity.tunnelFailure;
    // ssh2 emits 'error' on the client for a dropped connection; without a listener Node would
    // crash the process. Running commands learn about it through their channel closing.
    client.on('error', (err: Error) => {
      this.lastError = err;
    });
    client.on('end', () => {
      this.ended = true;
    });
    client.on('close', () => {
      this.closed = true;
      this.notifyClosed();
    });
  }

  /** Why this connection died, when it has: its own error, or the lost connection's message. */
  failure(): Error | undefined {
    if (!this.closed && !this.ended && !this.lastError) return undefined;
    return this.lastError ?? new Error('the connection was closed by the other end');
  }

  /** Calls `listener` once, when the connection has closed (whoever closed it). */
  onClosed(listener: () => void): void {
    if (this.closed) listener();
    else this.closeListeners.push(listener);
  }

  /**
   * A TCP connection from this host to host:port, as a stream (ssh2's forwardOut: a direct-tcpip
   * channel, what OpenSSH's ProxyJump uses). It does not count against the channel limit: a
   * bastion carries one per host behind it, and sshd limits sessions, not forwards.
   */
  forward(host: string, port: number): Promise<Duplex> {
    return new Promise<Duplex>((resolve, reject) => {
      try {
        this.assertOpen();
      } catch (err) {
        return reject(err as Error);
      }
      this.client.forwardOut('127.0.0.1', 0, host, port, (err, stream) => (err ? reject(err) : resolve(stream)));
    });
  }

  /** Run `command` with `sh -c` on the host. Resolves with any exit code; see execOrThrow. */
  exec(command: string, options: ExecOptions = {}): Promise<ExecResult> {
    return this.explained(this.channels(() => this.run(command, options, true)));
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
    return this.explained(this.channels(async () => {
      this.assertOpen();
      const sftp = await new Promise<SFTPWrapper>((resolve, reject) => {
        this.client.sftp((err, opened) => (err ? reject(this.lostError(err)) : resolve(opened)));
      });
      try {
        return await use(sftp);
      } finally {
        sftp.end();
      }
    }));
  }

  close(): void {
    this.closed = true;
    this.client.end();
    this.notifyClosed();
  }

  private notifyClosed(): void {
    for (const listener of this.closeListeners.splice(0)) listener();
  }

  /**
   * Whatever failed because the connection went away, while a bastion on its path had died
   * first, is that bastion's failure: said once, the same way, on every host behind it.
   */
  private async explained<T>(work: Promise<T>): Promise<T> {
    try {
      return await work;
    } catch (err) {
      if (!this.tunnelFailure || !(this.closed || err instanceof ConnectError)) throw err;
      // The bastion's connection may learn that the path died a moment after this one did.
      let tunnel = this.tunnelFailure();
      if (!tunnel) {
        await new Promise((resolve) => setTimeout(resolve, TUNNEL_SETTLE_MS));
        tunnel = this.tunnelFailure();
      }
      if (!tunnel) throw err;
      throw new ConnectError(`${this.name}: connection lost ${tunnel.message}`, 'the bastion went away: check it, then rerun the failed hosts', false, err);
    }
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
