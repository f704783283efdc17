import { describe, expect, it } from 'vitest';
import { InputError } from '../../errors.js';
import { testCluster } from '../../render/fixtures.js';
import { askSudoPassword, hostsNeedingSudoPassword } from './sudo-password.js';

describe('--ask-sudo-password', () => {
  const cluster = () => {
    const c = testCluster();
    c.hosts[0]!.ssh.user = 'admin';
    c.hosts[1]!.ssh.user = 'admin';
    c.hosts[1]!.ssh.sudoPassword = 'from-env';
    return c;
  };

  it('asks once, for the non-root hosts without a password, and gives them the answer', async () => {
    const c = cluster();
    expect(hostsNeedingSudoPassword(c)).toEqual([c.hosts[0]!.name]);
    const asked: string[] = [];
    await askSudoPassword(c, true, async (m) => (asked.push(m), 's3cret'));
    expect(asked).toEqual([`sudo password for admin on ${c.hosts[0]!.name}`]);
    expect(c.hosts[0]!.ssh.sudoPassword).toBe('s3cret');
    expect(c.hosts[1]!.ssh.sudoPassword).toBe('from-env');
    expect(c.hosts[2]!.ssh.sudoPassword).toBeUndefined();
  });

  it('asks nothing when every host is root or has a password', async () => {
    await askSudoPassword(testCluster(), false, async () => {
      throw new Error('must not ask');
    });
  });

  it('refuses without a terminal, and an empty answer, as input errors', async () => {
    await expect(askSudoPassword(cluster(), false, async () => 'x')).rejects.toBeInstanceOf(InputError);
    await expect(askSudoPassword(cluster(), true, async () => '')).rejects.toThrow(/no password/);
  });
});
