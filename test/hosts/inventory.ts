// Writes a kubeforge inventory for a test fleet: the hosts' addresses, the fleet's client key
// and known_hosts, and the test artifacts as bundles.
import fs from 'node:fs/promises';
import path from 'node:path';
import { stringify } from 'yaml';
import type { Artifacts } from './artifacts.js';
import type { Fleet } from './fleet.js';
import type { TestHost } from './host.js';
import type { NodeArtifacts } from './node-artifacts.js';

export interface FleetInventoryOptions {
  artifacts: Artifacts;
  /** Hosts in inventory order; default: the fleet's full hosts. The first is the control plane. */
  hosts?: TestHost[];
  /** How many of `hosts` (from the first) are control planes. Default 1. */
  controlPlanes?: number;
  clusterName?: string;
  /**
   * Node prerequisites (node-artifacts.ts; default: artifacts.node): the kubeadm image archive replaces the busybox one,
   * and crictl, the CNI plugins and the Flannel-shaped add-on come from these artifacts.
   */
  node?: NodeArtifacts;
  /** With `node`: OS packages from the offline bundle (default) or from the hosts' apt. */
  osPackages?: 'bundle' | 'apt';
  /** Merged over the generated document (shallow, per top-level section). */
  overrides?: Record<string, unknown>;
}

/** Writes DIR/inventory.yaml (and a private copy of the fleet's known_hosts); returns its path. */
export async function writeFleetInventory(fleet: Fleet, dir: string, opts: FleetInventoryOptions): Promise<string> {
  await fs.mkdir(dir, { recursive: true });
  const knownHosts = path.join(dir, 'known_hosts');
  await fs.copyFile(fleet.knownHosts, knownHosts);
  await fs.chmod(knownHosts, 0o600);
  const hosts = opts.hosts ?? fleet.full;
  const controlPlanes = opts.controlPlanes ?? 1;
  const doc: Record<string, unknown> = {
    cluster: { name: opts.clusterName ?? 'test' },
    kubernetes: {
      version: opts.artifacts.kubernetesVersion,
      bundle: opts.artifacts.kubernetesBundle,
      images: [opts.artifacts.imageArchive],
    },
    containerd: {
      bundle: opts.artifacts.containerdBundle,
      version: opts.artifacts.containerdVersion,
    },
    ssh: {
      user: 'root',
      keyFile: fleet.clientKey,
      agent: false,
      knownHostsFile: knownHosts,
      connectTimeout: '10s',
    },
    hosts: hosts.map((h, i) => ({
      name: h.name,
      address: h.address,
      role: i < controlPlanes ? 'control-plane' : 'worker',
    })),
  };
  const node = opts.node ?? opts.artifacts.node;
  if (node) {
    // podSubnet stays kubeforge's default 10.244.0.0/16, which the Flannel manifest uses.
    doc.kubernetes = {
      ...(doc.kubernetes as Record<string, unknown>),
      images: [node.kubeadmImageArchive],
      criTools: node.criTools,
      cniPlugins: node.cniPlugins,
    };
    doc.network = { manifest: node.flannelManifest };
    if ((opts.osPackages ?? 'bundle') === 'bundle') doc.osPackages = { bundle: node.osPackagesBundle };
  } else {
    // The archive holds only a test image: the hosts are not meant to run kubeadm from it.
    doc.kubernetes = { ...(doc.kubernetes as Record<string, unknown>), offline: false };
  }
  for (const [key, value] of Object.entries(opts.overrides ?? {})) {
    const base = doc[key];
    doc[key] = base && typeof base === 'object' && !Array.isArray(base) && value && typeof value === 'object' && !Array.isArray(value) ? { ...base, ...value } : value;
  }
  const file = path.join(dir, 'inventory.yaml');
  await fs.writeFile(file, `# Written by kubeforge's test harness for fleet ${fleet.slot}.\n${stringify(doc)}`);
  return file;
}
