import { isIPv6 } from 'node:net';
import type { Cluster } from '../model.js';
import { MANAGED_HEADER } from './header.js';

/** Kernel modules containerd (overlay snapshotter) and kube-proxy/CNI (bridge netfilter) need. */
export const KERNEL_MODULES = ['overlay', 'br_netfilter'] as const;

/** Pod traffic crosses a Linux bridge and is routed between interfaces. */
export const SYSCTLS: ReadonlyArray<readonly [string, string]> = [
  ['net.ipv4.ip_forward', '1'],
  ['net.bridge.bridge-nf-call-iptables', '1'],
  ['net.bridge.bridge-nf-call-ip6tables', '1'],
];

/** /etc/modules-load.d/kubeforge.conf: load the modules again after a reboot. */
export function renderModulesLoad(): string {
  return [MANAGED_HEADER, ...KERNEL_MODULES, ''].join('\n');
}

/** IPv6 and dual-stack clusters: kubeadm's preflight requires IPv6 forwarding (an ERROR otherwise). */
export const IPV6_SYSCTLS: ReadonlyArray<readonly [string, string]> = [
  ['net.ipv6.conf.all.forwarding', '1'],
  ['net.ipv6.conf.default.forwarding', '1'],
];

/** /etc/sysctl.d/99-kubeforge.conf: keep the settings after a reboot. */
export function renderSysctl(ipv6 = false): string {
  const settings = ipv6 ? [...SYSCTLS, ...IPV6_SYSCTLS] : SYSCTLS;
  return [MANAGED_HEADER, ...settings.map(([key, value]) => `${key} = ${value}`), ''].join('\n');
}

/**
 * The cluster's block in /etc/hosts: every node name at its internal address, between two
 * marker lines that name the cluster, so a rerun replaces exactly this block and nothing else.
 */
export function renderHostsBlock(cluster: Cluster): { begin: string; end: string; text: string } {
  const begin = `# BEGIN kubeforge cluster ${cluster.name} (managed by kubeforge: edits inside this block are overwritten)`;
  const end = `# END kubeforge cluster ${cluster.name}`;
  const lines = cluster.hosts.map((h) => `${h.internalAddress} ${h.name}`);
  return { begin, end, text: [begin, ...lines, end].join('\n') };
}

/** True when the cluster's addresses make it IPv6 or dual-stack (kubeadm then needs IPv6 forwarding). */
export function clusterUsesIPv6(cluster: Cluster): boolean {
  const cidrs = [cluster.kubernetes.podSubnet, cluster.kubernetes.serviceSubnet].flatMap((s) => s.split(','));
  return cidrs.some((c) => c.includes(':')) || cluster.hosts.some((h) => isIPv6(h.internalAddress));
}

