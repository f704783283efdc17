// What can go wrong talking to a host, as types the runner can tell apart: only ConnectError
// with `retryable` is worth another attempt; the rest need the user to change something.

import { KubeforgeError } from '../errors.js';

/** The host's key is unknown, changed or revoked: we refused to talk to it. */
export class HostKeyError extends KubeforgeError {
  constructor(
    message: string,
    hint: string,
    /** `file`: known_hosts could not be read, or the accepted key could not be written to it. */
    readonly kind: 'unknown' | 'changed' | 'revoked' | 'file',
  ) {
    super(message, hint);
  }
}

/** The host refused every credential we offered, or a key file cannot be used. */
export class AuthError extends KubeforgeError {}

/** The TCP connection or the SSH handshake failed. */
export class ConnectError extends KubeforgeError {
  constructor(
    message: string,
    hint: string | undefined,
    /** Worth another attempt: refused, unreachable, reset, timed out. */
    readonly retryable: boolean,
    override readonly cause?: unknown,
  ) {
    super(message, hint);
  }
  /** A connection lost while a command ran: what the command had printed by then. */
  partialOutput?: { stdout: string; stderr: string };
}

/** A remote command exited non-zero (from execOrThrow). */
export class CommandError extends KubeforgeError {
  constructor(
    readonly host: string,
    readonly command: string,
    readonly code: number,
    readonly signal: string | undefined,
    /** The last lines of each stream, for the user to see why. */
    readonly stdoutTail: string,
    readonly stderrTail: string,
  ) {
    super(commandFailureMessage(host, command, code, signal, stdoutTail, stderrTail));
  }
}

/** A remote command ran longer than its timeout and was killed. */
export class CommandTimeoutError extends KubeforgeError {
  constructor(
    readonly host: string,
    readonly command: string,
    readonly timeoutMs: number,
  ) {
    super(`${host}: \`${oneLine(command)}\` did not finish within ${formatMs(timeoutMs)} and was killed`);
  }
}

/** The caller aborted (Ctrl-C, a sibling failed); whatever ran on the host was stopped. */
export class AbortError extends KubeforgeError {
  constructor(
    readonly host: string,
    what: string,
  ) {
    super(`${host}: ${what} aborted`);
  }
}

/** sudo asked for a password we do not have, or refused the one we gave. */
export class SudoError extends KubeforgeError {}

/** An upload's content on the host differs from the local file after the transfer. */
export class UploadError extends KubeforgeError {}

function commandFailureMessage(
  host: string,
  command: string,
  code: number,
  signal: string | undefined,
  stdoutTail: string,
  stderrTail: string,
): string {
  const how = signal ? `was killed by SIG${signal}` : `exited with code ${code}`;
  const lines = [`${host}: \`${oneLine(command)}\` ${how}`];
  if (stderrTail) lines.push('stderr (last lines):', indent(stderrTail));
  if (stdoutTail) lines.push('stdout (last lines):', indent(stdoutTail));
  return lines.join('\n');
}

/** The first line of a command, shortened: enough to recognise it in a one-line summary. */
function oneLine(command: string): string {
  const first = command.trim().split('\n')[0] ?? '';
  const short = first.length > 120 ? `${first.slice(0, 117)}...` : first;
  return command.trim().includes('\n') ? `${short} …` : short;
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((line) => `  ${line}`)
    .join('\n');
}

function formatMs(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}
