// Ordinary login users on a full test host (its root filesystem has sudo), for running
// kubeforge as someone other than root: with passwordless sudo, with sudo that asks for the
// user's password, or with no sudo rights at all.
import { shellQuote } from '../../src/ssh/quote.js';
import type { TestHost } from './host.js';

export type SudoRights = 'nopasswd' | 'password' | 'none';

export interface TestUser {
  name: string;
  sudo: SudoRights;
  /** The login password (what sudo asks for); passwords are given to chpasswd on stdin, never in argv. */
  password?: string;
  /** Public keys ("ssh-ed25519 AAAA…") allowed to log in as the user. */
  authorizedKeys: string[];
}

/** Create the user with a home, its authorized_keys and a sudoers drop-in (checked by visudo). */
export async function addUser(host: TestHost, user: TestUser): Promise<void> {
  if (host.kind !== 'full') throw new Error('users are made on full hosts (light hosts share this machine\'s /etc/passwd)');
  if (!/^[a-z][a-z0-9-]*$/.test(user.name)) throw new Error(`unusable user name ${user.name}`);
  const name = user.name;
  const home = `/home/${name}`;
  await host.exec(
    `set -e
     useradd --create-home --shell /bin/sh ${name}
     install -d -m 0700 -o ${name} -g ${name} ${home}/.ssh
     printf '%s\\n' ${user.authorizedKeys.map(shellQuote).join(' ')} > ${home}/.ssh/authorized_keys
     chown ${name}:${name} ${home}/.ssh/authorized_keys
     chmod 0600 ${home}/.ssh/authorized_keys`,
  );
  if (user.password !== undefined) {
    if (/[\n:]/.test(user.name) || user.password.includes('\n')) throw new Error('chpasswd takes one user:password line');
    await host.exec('chpasswd', { input: `${name}:${user.password}\n` });
  } else {
    // No password, but not locked either ('!' would make sshd refuse the key login under UsePAM no).
    await host.exec(`usermod -p '*' ${name}`);
  }
  if (user.sudo === 'none') return;
  const rule = `${name} ALL=(ALL:ALL) ${user.sudo === 'nopasswd' ? 'NOPASSWD: ' : ''}ALL`;
  const file = `/etc/sudoers.d/kubeforge-test-${name}`;
  await host.exec(`set -e; printf '%s\\n' ${shellQuote(rule)} > ${file}; chmod 0440 ${file}; visudo -cqf ${file}`);
}
