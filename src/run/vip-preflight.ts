// The built-in VIP's preflight, from the control planes' facts, before anything changes: the
// address is in each control plane's subnet on the named interface, is no host's own address,
// and nothing answers it yet. Pure; orchestrate.ts adds its problems to the hosts' preflight.
import { isIPv4 } from 'node:net';
import type { Cluster, Host } from '../model.js';
import type { HostFacts } from './facts.js';
import type { PreflightProblem } from './preflight.js';

const CHECK = 'ControlPlaneVip';

/** The VIP to probe from this host's facts gather: control planes only, with the built-in VIP. */
export function vipProbeFor(cluster: Cluster, host: Host): { vip?: string } {
  const vip = cluster.kubernetes.controlPlaneVip;
  return vip && host.role === 'control-plane' ? { vip: vip.address } : {};
}

/**
 * Does the cluster exist already? Then kube-vip holds the VIP and its answering is expected:
 * some host of this run is a member, or the init host is not in the run (a --limit rerun).
 */
export function clusterMayHoldVip(facts: Array<{ host: Host; facts: HostFacts }>, initHostInRun: boolean): boolean {
  return !initHostInRun || facts.some((f) => f.facts.memberOf !== undefined);
}

export function vipProblems(cluster: Cluster, host: Host, facts: HostFacts, clusterExists: boolean): PreflightProblem[] {
  const vip = cluster.kubernetes.controlPlaneVip;
  if (!vip || host.role !== 'control-plane') return [];
  const where = `on ${host.name}`;
  const v = facts.vip;
  if (!v || !v.ipFound) {
    return [{ check: CHECK, message: `cannot read the network interfaces ${where}: ip not found`, fix: 'install iproute2 on the host (kubeadm needs ip too)' }];
  }
  const onInterface = v.addresses.filter((a) => a.interface === vip.interface);
  if (onInterface.length === 0) {
    const names = [...new Set(v.addresses.map((a) => a.interface))].join(', ') || 'none with an IPv4 address';
    const carrying = v.addresses.find((a) => a.cidr.split('/')[0] === host.internalAddress)?.interface;
    return [
      {
        check: CHECK,
        message: `interface ${vip.interface} (kubernetes.controlPlaneVip.interface) has no IPv4 address ${where} (its interfaces: ${names})`,
        fix: carrying
          ? `set kubernetes.controlPlaneVip.interface to ${carrying}, which carries ${host.name}'s internal address ${host.internalAddress} (the same name on every control plane)`
          : 'name the interface that carries the control planes\' subnet, the same on every control plane',
      },
    ];
  }
  const problems: PreflightProblem[] = [];
  const own = v.addresses.find((a) => a.cidr.split('/')[0] === vip.address);
  // kube-vip adds the VIP as a /32 on the named interface: that, in a cluster that exists, is it.
  const heldByKubeVip = own !== undefined && own.interface === vip.interface && own.cidr.endsWith('/32') && clusterExists;
  if (own && !heldByKubeVip) {
    problems.push({
      check: CHECK,
      message: `${vip.address} (kubernetes.controlPlaneVip.address) is already an address of ${host.name} (${own.interface} ${own.cidr})`,
      fix: 'choose a free address of the control planes\' subnet: kube-vip adds and removes the VIP itself',
    });
  }
  const subnets = onInterface.filter((a) => a.cidr !== own?.cidr).map((a) => a.cidr);
  const containing = subnets.find((cidr) => inSubnet(vip.address, cidr));
  if (!containing) {
    problems.push({
      check: CHECK,
      message: `${vip.address} (kubernetes.controlPlaneVip.address) is outside ${host.name}'s subnet on ${vip.interface} (${subnets.join(', ') || 'no other address'}): ARP does not reach it there`,
      fix: `choose a free address inside ${subnets[0] ?? 'the control planes\' subnet'}, the subnet every control plane shares`,
    });
  } else if (reservedInSubnet(vip.address, containing)) {
    problems.push({
      check: CHECK,
      message: `${vip.address} (kubernetes.controlPlaneVip.address) is the network or broadcast address of ${containing} ${where}`,
      fix: `choose a free host address inside ${containing}`,
    });
  }
  if (v.answeredBy && !clusterExists) {
    problems.push({
      check: CHECK,
      message: `${vip.address} (kubernetes.controlPlaneVip.address) is taken: ${v.answeredBy} answers ARP for it on ${host.name}'s link, and no cluster exists yet`,
      fix: 'choose a free address (kube-vip and that machine would fight over it), or free it first',
    });
  }
  return problems;
}

function toInt(ip: string): number {
  return ip.split('.').reduce((acc, octet) => acc * 256 + Number(octet), 0);
}

function parse(cidr: string): { base: number; size: number; prefix: number } | undefined {
  const [ip, prefixText] = cidr.split('/');
  const prefix = Number(prefixText);
  if (!ip || !isIPv4(ip) || !Number.isInteger(prefix) || prefix < 0 || prefix > 32) return undefined;
  const size = 2 ** (32 - prefix);
  return { base: Math.floor(toInt(ip) / size) * size, size, prefix };
}

export function inSubnet(ip: string, cidr: string): boolean {
  const net = parse(cidr);
  if (!net || !isIPv4(ip)) return false;
  const n = toInt(ip);
  return n >= net.base && n < net.base + net.size;
}

/** The network and broadcast addresses of a subnet that has them (not /31, /32). */
function reservedInSubnet(ip: string, cidr: string): boolean {
  const net = parse(cidr)!;
  if (net.prefix >= 31) return false;
  const n = toInt(ip);
  return n === net.base || n === net.base + net.size - 1;
}
