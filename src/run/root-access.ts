// Before a host is changed at all, prove that commands reach root on it: directly for a root
// login, through sudo for any other user. A user without sudo rights, or whose sudo wants a
// password kubeforge does not have (or refuses the one it has), is then a clear host failure
// instead of a half-run step with a confusing error. `id -u` runs in the same round trip as the
// facts (facts.ts gatherFactsAsRoot).
import type { ExecResult } from './remote.js';

export interface RootAccessProblem {
  message: string;
  hint: string;
}

/** What `id -u`, run as root, answered says about root access (undefined: it is there). */
export function rootAccessFrom(result: ExecResult, user: string): RootAccessProblem | undefined {
  const uid = result.stdout.trim().split('\n').pop();
  if (result.code === 0 && uid === '0') return undefined;
  const said = result.stderr.trim().split('\n').filter((l) => l.trim() !== '').pop();
  const why = said ? `sudo said: ${said.trim()}` : result.code === 0 ? `the command ran as uid ${uid ?? '?'}` : `exit ${result.code}`;
  return { message: `${user} cannot run commands as root (${why})`, hint: sudoersHint(user) };
}

/** `id -u` could not be run as root at all. */
export function rootAccessError(err: Error, user: string): RootAccessProblem {
  // A SudoError (password wanted but not configured, or refused) says what to do in its hint.
  const e = err as Error & { hint?: string };
  return { message: `${user} cannot run commands as root: ${e.message}`, hint: e.hint ?? sudoersHint(user) };
}

function sudoersHint(user: string): string {
  return `give ${user} sudo rights on the host (a sudoers rule such as "${user} ALL=(ALL:ALL) NOPASSWD: ALL"), or log in as root`;
}
