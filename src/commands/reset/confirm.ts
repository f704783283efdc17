// The question `kubeforge reset` asks before it touches anything, and what it says it will do.
import { confirm } from '@inquirer/prompts';
import { InputError } from '../../errors.js';
import type { Cluster } from '../../model.js';
import type { ResetSelection } from './select.js';

/** What will happen, host by host, in the order it happens (pure, shown before the question). */
export function describeReset(cluster: Cluster, selection: ResetSelection, removeImages: boolean): string {
  const lines: string[] = [`kubeforge reset of cluster ${cluster.name}: ${selection.hosts.length} host(s), in this order:`];
  for (const group of selection.groups) {
    for (const h of group.hosts) {
      const drained = selection.drained.has(h.name) ? `drain and delete node ${h.name} (through ${selection.via!.name}), then ` : '';
      lines.push(`  ${h.name} (${h.role}, ${h.address}): ${drained}kubeadm reset, stop and disable the kubelet and containerd, remove what kubeforge installed`);
    }
  }
  lines.push(`Removed on each host: kubeforge's binaries, config files, systemd units and drop-ins, step markers, its /etc/hosts block,` +
    ` /var/lib/kubeforge (bundles, secrets)${cluster.network ? ", the network add-on's CNI config" : ''}` +
    `${removeImages ? ', and containerd\'s images and data (/var/lib/containerd)' : '; containerd\'s images stay (--remove-images removes them)'}.`);
  lines.push('Kept: OS packages; kernel modules, sysctl values, iptables rules and the add-on\'s interfaces until a reboot. `kubeforge up` brings the hosts back.');
  return lines.join('\n');
}

export interface ConfirmContext {
  /** --yes: no question. */
  yes: boolean;
  /** Someone can answer (stdin is a terminal). */
  interactive: boolean;
  ask?: (message: string) => Promise<boolean>;
}

/** True to go on. Without a terminal, only --yes lets a reset go ahead. */
export async function confirmReset(hostCount: number, ctx: ConfirmContext): Promise<boolean> {
  if (ctx.yes) return true;
  if (!ctx.interactive) {
    throw new InputError('--yes', 'a reset needs confirmation, and there is no terminal to ask on', 'read what it will do (above), then add --yes to reset without asking');
  }
  const ask = ctx.ask ?? ((message: string) => confirm({ message, default: false }, { output: process.stderr }));
  return ask(`Reset ${hostCount} host(s)? This cannot be undone.`);
}
