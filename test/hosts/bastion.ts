// Hosts reachable only through a bastion: inside each hidden host's network namespace, packets
// are accepted only from (and sent only to) the bastion and the other hidden hosts. This machine
// then cannot reach them at all — the way a private network behind a jump host looks from a
// laptop — while the bastion and the hosts among themselves (the relay) still can.
import fs from 'node:fs/promises';
import path from 'node:path';
import { shellQuote } from '../../src/ssh/quote.js';
import type { TestHost } from './host.js';

/**
 * Applies the rules inside each of `hidden` (light hosts); they live and die with its namespace.
 * With `peers: false` the hidden hosts cannot reach each other either (only the bastion); a
 * second call replaces the first one's rules.
 */
export async function hideBehind(bastion: TestHost, hidden: TestHost[], opts: { peers?: boolean } = {}): Promise<void> {
  const allowed = [bastion, ...(opts.peers === false ? [] : hidden)].map((h) => h.address);
  const rules = [
    'set -e',
    'iptables -w -F INPUT',
    'iptables -w -F OUTPUT',
    'iptables -w -A INPUT -i lo -j ACCEPT',
    'iptables -w -A OUTPUT -o lo -j ACCEPT',
    ...allowed.flatMap((a) => [`iptables -w -A INPUT -s ${shellQuote(a)} -j ACCEPT`, `iptables -w -A OUTPUT -d ${shellQuote(a)} -j ACCEPT`]),
    // A refused connection, not a silent drop: a direct attempt fails at once, and says why.
    'iptables -w -A INPUT -p tcp -j REJECT --reject-with tcp-reset',
    'iptables -w -A INPUT -j DROP',
    // The resets those rejections send must leave, or a direct attempt just times out.
    'iptables -w -A OUTPUT -p tcp --tcp-flags RST RST -j ACCEPT',
    'iptables -w -A OUTPUT -j REJECT',
  ].join('\n');
  await Promise.all(hidden.map((h) => h.exec(rules)));
}

/** "Accepted publickey" lines in a light host's sshd log: logins it has accepted so far, and from where. */
export async function acceptedLogins(host: TestHost): Promise<string[]> {
  // Read on this machine: the file is where the launcher sends sshd's output (-e).
  const log = await fs.readFile(path.join(host.record.dir, 'sshd.log'), 'utf8').catch(() => '');
  return log.split('\n').filter((line) => /Accepted publickey for /.test(line));
}

/**
 * Ends every SSH connection the bastion serves (its per-connection sshd processes), as a crash
 * or an administrator would, and keeps its listening sshd (PID 1 of the light host) running.
 */
export async function dropBastionConnections(bastion: TestHost): Promise<void> {
  await bastion.exec('for p in $(pgrep sshd); do [ "$p" = 1 ] || kill -9 "$p"; done; true');
}
