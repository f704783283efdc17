// `kubeforge completion bash|zsh|fish` prints the script; `kubeforge __complete hosts` is what
// the scripts call for --limit: the inventory's host names and the two roles, read from the file
// alone (no connection, no bundle, no secret), and nothing at all when it cannot be read.
import type { Command } from 'commander';
import { InputError } from '../../errors.js';
import { peekHosts } from '../../inventory/peek.js';
import { bashScript } from './bash.js';
import { fishScript } from './fish.js';
import { programSpec } from './spec.js';
import { zshScript } from './zsh.js';

export const SHELLS = ['bash', 'zsh', 'fish'] as const;
export type Shell = (typeof SHELLS)[number];

export function completionScript(shell: Shell, program: Command, version: string): string {
  const spec = programSpec(program);
  if (shell === 'bash') return bashScript(spec, version);
  if (shell === 'zsh') return zshScript(spec, version);
  return fishScript(spec, version);
}

export async function completionCommand(shell: string, program: Command, version: string): Promise<number> {
  if (!(SHELLS as readonly string[]).includes(shell)) {
    throw new InputError(shell, 'is not a shell kubeforge writes completion for', `give one of ${SHELLS.join(', ')}`);
  }
  process.stdout.write(completionScript(shell as Shell, program, version));
  return 0;
}

/** --limit's candidates: the host names, then role=control-plane and role=worker. */
export async function limitCandidates(inventory: string): Promise<string[]> {
  const hosts = await peekHosts(inventory);
  return [...hosts.map((h) => h.name), 'role=control-plane', 'role=worker'];
}

export async function completeCommand(what: string, flags: { inventory: string }): Promise<number> {
  // Completion must never print an error into the user's command line: unknown requests print nothing.
  if (what === 'hosts') process.stdout.write((await limitCandidates(flags.inventory)).join('\n') + '\n');
  return 0;
}
