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

/** /etc/sysctl.d/99-kubeforge.conf: keep the settings after a reboot. */
export function renderSysctl(): string {
  return [MANAGED_HEADER, ...SYSCTLS.map(([key, value]) => `${key} = ${value}`), ''].join('\n');
}
