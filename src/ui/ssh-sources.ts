// `kubeforge up -v`: per host, each SSH setting and where it came from (the inventory, the ssh
// config's file:line, or kubeforge's default). Pure text from the resolved hosts.
import type { Host } from '../model.js';

/** Settings shown, in this order; the rest of Host.sshSources (if any) follow. */
const ORDER = ['address', 'user', 'port', 'keyFile', 'agent', 'knownHostsFile', 'connectTimeout', 'keepaliveInterval', 'proxyJump'];

export function sshSourceLines(hosts: Host[]): string[] {
  const lines: string[] = [];
  for (const host of hosts) {
    const sources = host.sshSources;
    if (!sources) continue;
    lines.push(`${host.name}: ssh settings`);
    const keys = [...ORDER.filter((k) => k in sources), ...Object.keys(sources).filter((k) => !ORDER.includes(k))];
    const width = Math.max(...keys.map((k) => k.length));
    for (const key of keys) {
      const { value, from } = sources[key]!;
      lines.push(`  ${key.padEnd(width)}  ${value}  (${from})`);
    }
    for (const hop of host.ssh.proxyJump ?? []) {
      lines.push(`  via bastion ${hop.label}: dials ${hop.address}, user ${hop.ssh.user}, key ${hop.ssh.keyFile ?? 'none'}, known_hosts ${hop.ssh.knownHostsFile}`);
    }
  }
  return lines;
}
