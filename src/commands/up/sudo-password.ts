// --ask-sudo-password: one hidden prompt, before any host is contacted, for every host reached
// as a user other than root that has no sudo password from the inventory. The answer stays in
// memory and reaches hosts only on sudo's stdin.
import { InputError } from '../../errors.js';
import type { Cluster } from '../../model.js';

export type AskHidden = (message: string) => Promise<string>;

/** Hosts that need the prompt's answer. */
export function hostsNeedingSudoPassword(cluster: Cluster): string[] {
  return cluster.hosts.filter((h) => h.ssh.user !== 'root' && h.ssh.sudoPassword === undefined).map((h) => h.name);
}

export async function askSudoPassword(cluster: Cluster, isTerminal: boolean, ask: AskHidden): Promise<void> {
  const hosts = hostsNeedingSudoPassword(cluster);
  if (hosts.length === 0) return;
  if (!isTerminal) {
    throw new InputError('--ask-sudo-password', 'needs a terminal to ask on', 'without one, put the password in an environment variable and name it in ssh.sudoPasswordEnv');
  }
  const users = [...new Set(cluster.hosts.filter((h) => hosts.includes(h.name)).map((h) => h.ssh.user))];
  const password = await ask(`sudo password for ${users.join(', ')} on ${hosts.length === cluster.hosts.length ? 'every host' : hosts.join(', ')}`);
  if (password === '') throw new InputError('--ask-sudo-password', 'no password given');
  for (const h of cluster.hosts) if (hosts.includes(h.name)) h.ssh.sudoPassword = password;
}

/** The real prompt: @inquirer/prompts' password, echoing nothing. */
export const askHidden: AskHidden = async (message) => {
  const { password } = await import('@inquirer/prompts');
  return password({ message });
};
