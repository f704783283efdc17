// Rules that span fields, which a schema of single fields cannot express: unique hosts, the
// control-plane count, supported versions (including one read from a bundle's file name),
// subnets that must not overlap. They run on the raw document beside the schema, so one pass
// reports both kinds of problem; each rule looks only at fields that have the right shape and
// leaves malformed ones to the schema's messages.
import { basename } from 'node:path';
import { canonicalAddress, isHostname, isIP } from './address.js';
import { cidrsOverlap, parseCidr } from './cidr.js';
import type { Version } from '../model.js';
import { clip, formatPath, quote, showPath, type Path, type Problem } from './problem.js';
import { DEFAULTS } from './schema.js';
import { parseExactVersion, supportedRange, unsupportedReason, versionInFileName, type Component } from './versions.js';

export interface CheckResult {
  errors: Problem[];
  warnings: Problem[];
}

/** Line on which the value at path is written (for "first on line N"). */
export type LineOf = (path: Path) => number;

type Raw = Record<string, unknown>;

function record(value: unknown): Raw | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Raw) : undefined;
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

export function runChecks(inventory: Raw, lineOf: LineOf): CheckResult {
  const result: CheckResult = { errors: [], warnings: [] };
  checkHosts(inventory, lineOf, result);
  checkControlPlanes(inventory, result);
  checkKubernetesVersion(inventory, result);
  checkContainerdVersion(inventory, result);
  checkSubnets(inventory, result);
  checkControlPlaneVip(inventory, lineOf, result);
  checkNetworkAddon(inventory, result);
  return result;
}

function hostsOf(inventory: Raw): Raw[] {
  return Array.isArray(inventory.hosts) ? inventory.hosts.map((h) => record(h) ?? {}) : [];
}

function checkHosts(inventory: Raw, lineOf: LineOf, result: CheckResult): void {
  const hosts = hostsOf(inventory);
  const defaultPort = record(inventory.ssh)?.port;
  const names = new Map<string, number>();
  const endpoints = new Map<string, number>();
  const internals = new Map<string, number>();
  const label = (i: number) => `host ${quote(text(hosts[i]!.name) ?? String(i))} on line ${lineOf(['hosts', i])}`;

  hosts.forEach((host, i) => {
    const name = text(host.name);
    if (name !== undefined) {
      const first = names.get(name);
      if (first !== undefined) {
        result.errors.push({
          path: ['hosts', i, 'name'],
          message: `hosts[${i}].name: duplicate host name ${quote(name)} (first on line ${lineOf(['hosts', first, 'name'])})`,
          hint: 'every host needs its own name: Kubernetes uses it as the node name',
        });
      } else names.set(name, i);
    }

    const address = text(host.address);
    if (address === undefined || !(isIP(address) || isHostname(address))) return;
    const port = record(host.ssh)?.port ?? defaultPort ?? DEFAULTS.ssh.port;
    const endpoint = `${canonicalAddress(address)} port ${String(port)}`;
    const sameEndpoint = endpoints.get(endpoint);
    if (sameEndpoint !== undefined) {
      result.errors.push({
        path: ['hosts', i, 'address'],
        message: `hosts[${i}].address: duplicate address ${clip(address)} (${label(sameEndpoint)} has it too)`,
        hint: 'each host needs its own address; hosts behind one address need different ssh ports and their own internalAddress',
      });
      return;
    }
    endpoints.set(endpoint, i);

    const internal = text(host.internalAddress);
    // A name without internalAddress is checked once the ssh config is read (resolve.ts): an ssh
    // config alias whose HostName is an IP address needs none.
    const nodeIp = internal ?? address;
    if (!isIP(nodeIp)) return;
    const sameInternal = internals.get(canonicalAddress(nodeIp));
    if (sameInternal !== undefined) {
      const field: Path = internal === undefined ? ['hosts', i, 'address'] : ['hosts', i, 'internalAddress'];
      result.errors.push({
        path: field,
        message: `${formatPath(field)}: ${clip(nodeIp)} is also the internal address of ${label(sameInternal)}`,
        hint: 'Kubernetes nodes need distinct IP addresses: give each host its own internalAddress',
      });
    } else internals.set(canonicalAddress(nodeIp), i);
  });
}

function checkControlPlanes(inventory: Raw, result: CheckResult): void {
  const hosts = hostsOf(inventory);
  const roles = hosts.map((h) => h.role);
  // A host with a missing or misspelt role is reported by the schema; counting without it would
  // add a second, misleading error.
  if (hosts.length === 0 || !roles.every((r) => r === 'control-plane' || r === 'worker')) return;
  const controlPlanes = hosts.filter((h) => h.role === 'control-plane');
  const count = controlPlanes.length;
  if (count === 0) {
    result.errors.push({
      path: ['hosts'],
      at: 'key',
      message: 'hosts: no host has role control-plane',
      hint: 'set role: control-plane on the host that should run kubeadm init (the first control-plane host is the init host)',
    });
    return;
  }
  if (count % 2 === 0) {
    result.warnings.push({
      path: ['hosts'],
      at: 'key',
      message: `hosts: ${count} control-plane hosts; etcd needs a majority of them, so ${count} survive no more failures than ${count - 1} would (use 1, 3 or 5)`,
    });
  }
  const kubernetes = record(inventory.kubernetes);
  if (count > 1 && kubernetes?.controlPlaneEndpoint === undefined && kubernetes?.controlPlaneVip === undefined) {
    result.warnings.push({
      path: ['kubernetes', 'controlPlaneEndpoint'],
      message: `kubernetes.controlPlaneEndpoint is not set with ${count} control-plane hosts: every node will reach the API server through the init host ${clip(String(controlPlanes[0]!.name))} alone; set it to a load-balanced address, or set kubernetes.controlPlaneVip for a built-in virtual IP`,
    });
  }
}

function bundleFileName(bundle: unknown): string | undefined {
  if (typeof bundle === 'string' && bundle.length > 0) return basename(bundle);
  const url = text(record(bundle)?.url);
  if (url === undefined || !URL.canParse(url)) return undefined;
  return basename(new URL(url).pathname) || undefined;
}

function checkKubernetesVersion(inventory: Raw, result: CheckResult): void {
  const kubernetes = record(inventory.kubernetes);
  const version = parseExactVersion(text(kubernetes?.version) ?? '');
  if (!version) return;
  checkSupported('kubernetes', version, ['kubernetes', 'version'], result);
  const fileName = bundleFileName(kubernetes?.bundle);
  const named = fileName ? versionInFileName('kubernetes', fileName) : undefined;
  if (named && named.text !== version.text) {
    result.warnings.push({
      path: ['kubernetes', 'bundle'],
      message: `kubernetes.bundle: the file name ${showPath(fileName!)} says Kubernetes ${named.text}, but kubernetes.version is ${version.text}`,
    });
  }
}

function checkContainerdVersion(inventory: Raw, result: CheckResult): void {
  const containerd = record(inventory.containerd);
  if (!containerd) return;
  const fileName = bundleFileName(containerd.bundle);
  const named = fileName ? versionInFileName('containerd', fileName) : undefined;
  const written = text(containerd.version);
  if (written !== undefined) {
    const version = parseExactVersion(written);
    if (!version) return;
    checkSupported('containerd', version, ['containerd', 'version'], result);
    if (named && named.text !== version.text) {
      result.warnings.push({
        path: ['containerd', 'version'],
        message: `containerd.version is ${version.text}, but the bundle file name ${showPath(fileName!)} says ${named.text}`,
      });
    }
    return;
  }
  if (fileName === undefined) return;
  const bundlePath: Path = typeof containerd.bundle === 'string' ? ['containerd', 'bundle'] : ['containerd', 'bundle', 'url'];
  if (named) {
    checkSupported('containerd', named, bundlePath, result, ` (read from the file name ${showPath(fileName)})`);
    return;
  }
  result.errors.push({
    path: bundlePath,
    message: `containerd.version is not set, and the bundle file name ${showPath(fileName)} does not tell it (expected containerd-X.Y.Z-…)`,
    hint: 'add containerd.version: X.Y.Z, or keep the release tarball\'s name, e.g. containerd-1.7.20-linux-amd64.tar.gz',
  });
}

function checkSupported(component: Component, version: Version, path: Path, result: CheckResult, source = ''): void {
  const reason = unsupportedReason(component, version);
  if (reason) {
    result.errors.push({
      path,
      message: `${formatPath(path)}: ${reason}${source}`,
      hint: `choose a ${component === 'kubernetes' ? 'Kubernetes' : 'containerd'} release from ${supportedRange(component)}`,
    });
  }
}

/**
 * The built-in VIP replaces an explicit endpoint (the endpoint is derived from it), and cannot be
 * an address a host already has: kube-vip would take it away from that host. The subnet and
 * "nothing answers it" are the preflight's, which sees the hosts' interfaces.
 */
function checkControlPlaneVip(inventory: Raw, lineOf: LineOf, result: CheckResult): void {
  const kubernetes = record(inventory.kubernetes);
  const vip = record(kubernetes?.controlPlaneVip);
  if (!vip) return;
  if (kubernetes?.controlPlaneEndpoint !== undefined) {
    result.errors.push({
      path: ['kubernetes', 'controlPlaneVip'],
      at: 'key',
      message: `kubernetes.controlPlaneVip: set together with kubernetes.controlPlaneEndpoint (line ${lineOf(['kubernetes', 'controlPlaneEndpoint'])}); the endpoint is VIP:6443 with a built-in VIP`,
      hint: 'keep controlPlaneVip for kube-vip on the control planes, or controlPlaneEndpoint for your own load balancer; not both',
    });
  }
  const address = text(vip.address);
  if (address === undefined || !isIP(address)) return;
  hostsOf(inventory).forEach((host, i) => {
    for (const field of ['address', 'internalAddress'] as const) {
      const own = text(host[field]);
      if (own === undefined || !isIP(own) || canonicalAddress(own) !== canonicalAddress(address)) continue;
      result.errors.push({
        path: ['kubernetes', 'controlPlaneVip', 'address'],
        message: `kubernetes.controlPlaneVip.address: ${clip(address)} is the ${field} of host ${quote(text(host.name) ?? String(i))} on line ${lineOf(['hosts', i, field])}`,
        hint: 'the virtual IP must be a free address of the control planes\' subnet that no host has: kube-vip moves it between them',
      });
      return;
    }
  });
}

function checkSubnets(inventory: Raw, result: CheckResult): void {
  const kubernetes = record(inventory.kubernetes) ?? {};
  const podText = text(kubernetes.podSubnet) ?? DEFAULTS.kubernetes.podSubnet;
  const serviceText = text(kubernetes.serviceSubnet) ?? DEFAULTS.kubernetes.serviceSubnet;
  const [pod, service] = [parseCidr(podText), parseCidr(serviceText)];
  if (!pod || !service || !cidrsOverlap(pod, service)) return;
  const field = kubernetes.podSubnet !== undefined ? 'podSubnet' : 'serviceSubnet';
  result.errors.push({
    path: ['kubernetes', field],
    message: `kubernetes.${field}: podSubnet ${podText} overlaps serviceSubnet ${serviceText}`,
    hint: `pick blocks that do not overlap, such as the defaults podSubnet ${DEFAULTS.kubernetes.podSubnet} and serviceSubnet ${DEFAULTS.kubernetes.serviceSubnet}`,
  });
}

/** Rules that need the bundles' contents (pod CIDRs of the add-on, offline images) are in artifact-checks.ts. */
function checkNetworkAddon(inventory: Raw, result: CheckResult): void {
  if (inventory.network !== undefined) return;
  result.warnings.push({
    path: ['network'],
    message: 'no network add-on: nodes will stay NotReady until you apply one (set network.manifest)',
  });
}
