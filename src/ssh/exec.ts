// Run one command over one SSH session channel: feed stdin (after sudo let us in), collect a
// capped tail of its output, and on timeout or abort kill what it started before giving up.

import { constants as osConstants } from 'node:os';
import type { Client, ClientChannel } from 'ssh2';
import { AbortError, CommandTimeoutError, ConnectError, SudoError } from './errors.js';
import { MarkerScanner, type MarkerEvent } from './markers.js';
import { OutputTail } from './output-tail.js';
import { newMarkers, remoteCommandLine } from './remote-command.js';

export interface ExecOptions {
  /** Run as root: through sudo when the login user is not root, directly when it is. */
  sudo?: boolean;
  /** Written to the command's stdin, then EOF. Secrets go here, never into the command line. */
  stdin?: string | Buffer;
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Exported in the remote shell before the command; names must match [A-Z_][A-Z0-9_]*. */
  env?: Record<string, string>;
}

export interface ExecResult {
  /** Exit code; 128 + signal number when the command was killed by a signal. */
  code: number;
  signal?: string;
  stdout: string;
  stderr: string;
}

export interface ExecRequest extends Omit<ExecOptions, 'sudo'> {
  /** The command as the caller wrote it: what errors show. */
  command: string;
  /** Host name for messages. */
  host: string;
  /** Resolved: go through sudo (sudo was asked for and the login user is not root). */
  viaSudo: boolean;
  sudoPassword?: string;
  /** Bytes kept of each output stream (the end is kept). */
  outputCap?: number;
  /** Kill every process of remote session `sid`; used on timeout and abort. */
  killSession?(sid: number): Promise<void>;
}

/** How long to wait for the channel to close after we killed the command, before giving up on it. */
const CLOSE_GRACE_MS = 3000;
/** How long a stopped command may take to report its session id before we close without a kill. */
const SESSION_ID_WAIT_MS = 1000;

export function runCommand(client: Client, request: ExecRequest): Promise<ExecResult> {
  return new Promise<ExecResult>((resolve, reject) => {
    const { host, command, signal } = request;
    // The first line that says something: scripts start with `set -eu`, `PATH=...` and exports.
    const meaningful = command.split('\n').map((l) => l.trim()).find((l) => l && !/^(set -|export |PATH=|umask |#)/.test(l)) ?? command.split('\n')[0]!;
    const what = `\`${meaningful.length > 80 ? `${meaningful.slice(0, 79)}…` : meaningful}\``;
    if (signal?.aborted) return reject(new AbortError(host, what));

    const markers = newMarkers();
    let line: string;
    try {
      line = remoteCommandLine(command, { sudo: request.viaSudo, env: request.env, markers });
    } catch (err) {
      return reject(err);
    }

    const scanner = new MarkerScanner(markers, request.viaSudo);
    const stdout = new OutputTail(request.outputCap);
    const stderr = new OutputTail(request.outputCap);
    let channel: ClientChannel | undefined;
    let sid: number | undefined;
    let exit: { code: number | null; signal: string | undefined } | undefined;
    let prompts = 0;
    let failure: Error | undefined;
    let stopping: Error | undefined;
    let settled = false;
    let graceTimer: NodeJS.Timeout | undefined;

    const timeoutTimer =
      request.timeoutMs !== undefined
        ? setTimeout(() => stop(new CommandTimeoutError(host, command, request.timeoutMs!)), request.timeoutMs)
        : undefined;
    const onAbort = () => stop(new AbortError(host, what));
    signal?.addEventListener('abort', onAbort, { once: true });

    const settle = (outcome: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timeoutTimer);
      clearTimeout(graceTimer);
      signal?.removeEventListener('abort', onAbort);
      outcome();
    };

    const sendStdin = () => {
      if (!channel) return;
      if (request.stdin !== undefined && request.stdin.length > 0) channel.write(request.stdin);
      channel.end();
    };

    const onMarker = (event: MarkerEvent) => {
      if (event.kind === 'session') {
        sid = event.sid;
        if (stopping) void killThenClose();
      } else if (event.kind === 'started') sendStdin();
      else onSudoPrompt();
    };

    const onSudoPrompt = () => {
      prompts++;
      if (request.sudoPassword === undefined || prompts > 1) {
        failure =
          prompts > 1
            ? new SudoError(`${host}: sudo did not accept the password`, 'check the password in the variable ssh.sudoPasswordEnv names')
            : new SudoError(
                `${host}: sudo asks for a password and none is configured`,
                'set ssh.sudoPasswordEnv in the inventory to a variable holding the password, or allow the user passwordless sudo (NOPASSWD)',
              );
        // EOF makes sudo give up at once instead of waiting for a password.
        channel?.end();
        return;
      }
      channel?.write(`${request.sudoPassword}\n`);
    };

    const onClose = () => {
      const rest = scanner.end();
      if (rest.length > 0) stderr.push(rest);
      settle(() => {
        if (stopping) reject(stopping);
        else if (failure) reject(failure);
        else if (!exit) {
          const lost = new ConnectError(`${host}: connection lost while running ${what}`, undefined, false);
          lost.partialOutput = { stdout: stdout.toString(), stderr: stderr.toString() };
          reject(lost);
        } else {
          const result: ExecResult = {
            code: exit.code ?? exitCodeForSignal(exit.signal),
            stdout: stdout.toString(),
            stderr: stderr.toString(),
          };
          if (exit.signal) result.signal = exit.signal;
          resolve(result);
        }
      });
    };

    /** Timeout or abort: kill the remote processes, then close the channel; reject once it is closed. */
    function stop(reason: Error) {
      if (settled || stopping) return;
      stopping = reason;
      // Just started and its session id not reported yet: give it a moment (onMarker kills as
      // soon as the id arrives), rather than closing a channel whose processes would live on.
      if (sid === undefined) setTimeout(() => void killThenClose(), SESSION_ID_WAIT_MS).unref();
      else void killThenClose();
    }

    let killing = false;
    async function killThenClose() {
      if (killing || settled) return;
      killing = true;
      if (sid !== undefined && request.killSession) {
        await request.killSession(sid).catch(() => undefined);
      }
      if (channel) {
        try {
          // Honoured by sshd for non-root sessions only; the session kill above covers the rest.
          channel.signal('KILL');
        } catch {
          // the channel may already be gone
        }
        channel.close();
      }
      // Normally 'close' follows at once; do not hang on a channel something still holds open.
      if (!settled) graceTimer = setTimeout(() => settle(() => reject(stopping!)), CLOSE_GRACE_MS);
    }

    client.exec(line, (err, opened) => {
      if (err) {
        settle(() =>
          reject(
            new ConnectError(
              `${host}: could not start ${what}: ${err.message}`,
              'the host may limit sessions per connection (sshd MaxSessions)',
              false,
              err,
            ),
          ),
        );
        return;
      }
      channel = opened;
      // Gave up waiting for the channel to open: close it at once.
      if (killing) channel.close();
      channel.on('data', (chunk: Buffer) => stdout.push(chunk));
      channel.stderr.on('data', (chunk: Buffer) => {
        const { output, events } = scanner.feed(chunk);
        if (output.length > 0) stderr.push(output);
        events.forEach(onMarker);
      });
      channel.on('exit', (code: number | null, signalName?: string) => {
        exit = { code, signal: signalName ?? undefined };
      });
      // Writing stdin to a command that already exited fails; the exit status is what matters.
      channel.on('error', () => undefined);
      channel.on('close', onClose);
      if (!request.viaSudo) sendStdin();
    });
  });
}

function exitCodeForSignal(name: string | undefined): number {
  const number = name ? osConstants.signals[`SIG${name}` as keyof typeof osConstants.signals] : undefined;
  return 128 + (number ?? 0);
}
