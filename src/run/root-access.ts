// Before a host is changed at all, prove that commands reach root on it: directly for a root
// login, through sudo for any other user. A user without sudo rights, or whose sudo wants a
// password kubeforge does not have (or refuses the one it has), is then a clear host failure
// instead of a half-run step with a confusing error.
import type { Remote } from './remote.js';

export interface RootAccessProblem {
  message: string;
  hint: string;
}

const ROOT_CHECK_TIMEOUT_MS = 60_000;

/** undefined when `id -u` run as root on the host says 0; otherwise why it did not. */
export async function rootAccessProblem(remote: Remote, user: string, signal: AbortSignal): Promise<RootAccessProblem | undefined> {
  const sudoersHint = `give ${user} sudo rights on the host (a sudoers rule such as "${user} ALL=(ALL:ALL) NOPASSWD: ALL"), or log in as root`;
  let result;
  try {
    result = await remote.exec('id -u', { signal, timeoutMs: ROOT_CHECK_TIMEOUT_MS });
  } catch (err) {
    // A SudoError (password wanted but not configured, or refused) says what to do in its hint.
    const e = err as Error & { hint?: string };
    return { message: `${user} cannot run commands as root: ${e.message}`, hint: e.hint ?? sudoersHint };
  }
  const uid = result.stdout.trim().split('\n').pop();
  if (result.code === 0 && uid === '0') return undefined;
  const said = result.stderr.trim().split('\n').filter((l) => l.trim() !== '').pop();
  const why = said ? `sudo said: ${said.trim()}` : result.code === 0 ? `the command ran as uid ${uid ?? '?'}` : `exit ${result.code}`;
  return { message: `${user} cannot run commands as root (${why})`, hint: sudoersHint };
}
