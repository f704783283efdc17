// The exact command line sent to sshd for one exec, and the markers it prints on stderr.
//
// The line is run by the user's login shell, so it hands over to `sh -c` at once for POSIX
// semantics whatever that shell is. Before the caller's command runs it reports on stderr:
//   1. the id of the session sshd made for this channel, so a timeout or abort can kill every
//      process of the command (sshd refuses "signal" requests for root sessions, and closing
//      the channel kills nothing);
//   2. with sudo: a unique password prompt (answered only when it appears, so a password is
//      never fed to a command that did not ask), then a "started" marker once sudo let us in,
//      after which the caller's stdin is sent.
// markers.ts strips these lines again so the caller sees the command's own stderr.

import { randomBytes } from 'node:crypto';
import { shellQuote } from './quote.js';

export interface CommandMarkers {
  /** Printed as `<session><sid>\n` before anything else. */
  session: string;
  /** The prompt sudo prints (without newline) when it wants the password. */
  prompt: string;
  /** Printed as `<started>\n` by the command's shell once sudo has started it. */
  started: string;
}

const ENV_NAME = /^[A-Z_][A-Z0-9_]*$/;

/** Fresh random markers: a command's own output cannot contain them by accident. */
export function newMarkers(): CommandMarkers {
  const id = randomBytes(8).toString('hex');
  // No `%` anywhere: sudo expands %-escapes in its prompt.
  return {
    session: `[kubeforge:${id}:session=`,
    prompt: `[kubeforge:${id}:sudo-password]`,
    started: `[kubeforge:${id}:started]`,
  };
}

export interface RemoteCommandOptions {
  /** Run through `sudo -S` (the caller decides: only when the login user is not root). */
  sudo: boolean;
  /** Exported inside the shell that runs the command (sshd usually refuses env requests). */
  env?: Record<string, string>;
  markers: CommandMarkers;
}

export function remoteCommandLine(command: string, options: RemoteCommandOptions): string {
  const { markers } = options;
  const inner = envPrefix(options.env ?? {}) + command;
  const reportSession =
    `read -r _ _ _ _ _ kf_sid _ 2>/dev/null </proc/$$/stat || kf_sid=; ` +
    `printf '%s%s\\n' ${shellQuote(markers.session)} "$kf_sid" >&2`;
  const run = options.sudo
    ? `exec sudo -S -p ${shellQuote(markers.prompt)} -- sh -c ` +
      shellQuote(`printf '%s\\n' ${shellQuote(markers.started)} >&2\n${inner}`)
    : // Without sudo the command runs in the shell that reported: one exec of sh fewer per command.
      inner;
  return `sh -c ${shellQuote(`${reportSession}\n${run}`)}`;
}

/** Kill every process left in session `sid` (pkill -s; a process-group kill where pkill is missing). */
export function killSessionCommand(sid: number): string {
  return `pkill -KILL -s ${sid} 2>/dev/null || kill -KILL -- -${sid} 2>/dev/null; true`;
}

function envPrefix(env: Record<string, string>): string {
  const names = Object.keys(env);
  if (names.length === 0) return '';
  const assignments = names.map((name) => {
    if (!ENV_NAME.test(name)) {
      throw new Error(`invalid environment variable name ${JSON.stringify(name)} (want [A-Z_][A-Z0-9_]*)`);
    }
    return `${name}=${shellQuote(env[name]!)}`;
  });
  // `export`, not `A=1 cmd`: a prefix assignment would only reach the first simple command of a
  // compound command such as `cd /x && make`.
  return `export ${assignments.join(' ')}\n`;
}
