// Which distribution package provides each binary kubeadm and the kubelet need, per package
// family: the planner hands the apt table to the prepare/os-packages step, the preflight names
// the packages to install where kubeforge does not install them itself. Pure data.

/** A host's package tools, as its facts show them. */
export type PackageFamily = 'apt' | 'dnf' | 'yum' | 'zypper' | 'none';

/** Binaries kubeforge installs from OS packages when missing (kube-proxy needs conntrack on every version). */
export const OS_PACKAGE_BINARIES = ['iptables', 'conntrack', 'ebtables', 'ethtool', 'socat', 'ip', 'tc', 'mount', 'nsenter', 'touch'] as const;

/** Which package provides each binary, per package family. */
const PACKAGE_OF: Record<Exclude<PackageFamily, 'none'>, Record<(typeof OS_PACKAGE_BINARIES)[number], string>> = {
  apt: { iptables: 'iptables', conntrack: 'conntrack', ebtables: 'ebtables', ethtool: 'ethtool', socat: 'socat', ip: 'iproute2', tc: 'iproute2', mount: 'mount', nsenter: 'util-linux', touch: 'coreutils' },
  dnf: { iptables: 'iptables-nft', conntrack: 'conntrack-tools', ebtables: 'iptables-ebtables', ethtool: 'ethtool', socat: 'socat', ip: 'iproute', tc: 'iproute-tc', mount: 'util-linux', nsenter: 'util-linux', touch: 'coreutils' },
  yum: { iptables: 'iptables', conntrack: 'conntrack-tools', ebtables: 'ebtables', ethtool: 'ethtool', socat: 'socat', ip: 'iproute', tc: 'iproute-tc', mount: 'util-linux', nsenter: 'util-linux', touch: 'coreutils' },
  zypper: { iptables: 'iptables', conntrack: 'conntrack-tools', ebtables: 'ebtables', ethtool: 'ethtool', socat: 'socat', ip: 'iproute2', tc: 'iproute2', mount: 'util-linux', nsenter: 'util-linux', touch: 'coreutils' },
};

export function packagesFor(family: Exclude<PackageFamily, 'none'>, binaries: string[]): string[] {
  const table = PACKAGE_OF[family] as Record<string, string>;
  return [...new Set(binaries.map((b) => table[b] ?? b))];
}

/** apt-family mapping "binary:package" lines, for the prepare/os-packages step on the host. */
export function aptPackageMap(): string {
  return OS_PACKAGE_BINARIES.map((b) => `${b}:${PACKAGE_OF.apt[b]}`).join('\n');
}
