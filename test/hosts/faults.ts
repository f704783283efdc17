// Host-key faults on a test host: a new host key (as after a reinstall, or a machine in the
// middle), and an extra sshd on another port (for `[host]:port` known_hosts entries). Done from
// inside the host's namespaces, the way its own administrator would.
import { shellQuote } from '../../src/ssh/quote.js';
import { run, sleep } from './exec.js';
import type { TestHost } from './host.js';
import { waitForSshBanner } from './wait.js';

/** Where the host's sshd reads its ed25519 host key, as seen inside the host. */
function hostKeyFile(host: TestHost): string {
  return host.kind === 'full' ? '/etc/ssh/ssh_host_ed25519_key' : `${host.record.dir}/ssh_host_ed25519_key`;
}

/**
 * Replace the host's ed25519 host key with a fresh one and make sshd serve it (full: restart
 * ssh.service; light: SIGHUP, on which sshd re-executes and reloads its keys). Resolves once
 * the host presents the new key on port 22; returns its public part, "ssh-ed25519 AAAA…".
 * The fleet's known_hosts file is left alone: it now holds the old key.
 */
export async function changeHostKey(host: TestHost): Promise<string> {
  const file = shellQuote(hostKeyFile(host));
  await host.exec(`set -e; rm -f ${file} ${file}.pub; ssh-keygen -q -t ed25519 -N '' -C ${shellQuote(`root@${host.name}-rekeyed`)} -f ${file}`);
  const publicKey = (await host.sh(`cat ${file}.pub`)).split(' ').slice(0, 2).join(' ');
  if (host.kind === 'full') await host.exec('systemctl restart ssh');
  else process.kill(host.record.initPid, 'SIGHUP');
  await waitForHostKey(host, host.port, publicKey);
  return publicKey;
}

/**
 * A light host only: a second sshd with the same keys and config, listening on `port`, so the
 * host is reached as `[address]:port`. It dies with the host.
 */
export async function listenOnExtraPort(host: TestHost, port: number): Promise<void> {
  if (host.kind !== 'light') throw new Error('listenOnExtraPort is for light hosts');
  const dir = host.record.dir;
  // -o Port on the command line replaces the config file's Port; without -D sshd detaches.
  await host.exec(
    `/usr/sbin/sshd -f ${shellQuote(`${dir}/sshd_config`)} -o Port=${port} -o PidFile=/run/sshd-${port}.pid -E ${shellQuote(`${dir}/sshd-${port}.log`)}`,
  );
  await waitForSshBanner(host.address, port, 20_000);
}

/** Public host key ("ssh-ed25519 AAAA…") the host presents on `port`, as OpenSSH's ssh-keyscan reads it. */
export async function presentedHostKey(host: TestHost, port: number): Promise<string | undefined> {
  const r = await run('ssh-keyscan', ['-T', '3', '-t', 'ed25519', '-p', String(port), host.address], { allowFail: true });
  const line = r.stdout.split('\n').find((l) => !l.startsWith('#') && l.includes('ssh-ed25519'));
  return line?.split(' ').slice(1, 3).join(' ');
}

async function waitForHostKey(host: TestHost, port: number, publicKey: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if ((await presentedHostKey(host, port)) === publicKey) return;
    await sleep(200);
  }
  throw new Error(`${host.name} does not present its new host key on port ${port} within 30 s`);
}
