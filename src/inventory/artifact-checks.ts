// Rules that span fields and the contents of the bundles, so they run once the bundles are read
// (resolve.ts), not on the raw document like checks.ts: the network add-on's pod CIDRs must be
// kubeadm's podSubnet, and an offline install's image archives must hold every image the
// cluster will run. Pure: the resolved Cluster (image archives already listed) in, problems out.
import type { AddonManifest } from '../cluster/addon-manifest.js';
import { kubeadmImages, normalizeImageRef } from '../cluster/kubeadm-images.js';
import type { Cluster } from '../model.js';
import { parseCidr } from './cidr.js';
import { clip, formatPath, type Path, type Problem } from './problem.js';
import type { Inventory } from './schema.js';

export const OFFLINE_HINT =
  'add them to an archive (e.g. ctr -n k8s.io images export / docker save) or set kubernetes.offline: false if the hosts can pull from a registry';

/** Every problem of the pod CIDR and offline-image rules, in one pass. */
export function checkArtifacts(cluster: Cluster, inventory: Inventory, addon: AddonManifest | undefined): Problem[] {
  return [...checkPodCidrs(cluster, addon), ...checkOfflineImages(cluster, inventory)].filter((p): p is Problem => p !== undefined);
}

/** 10.244.0.0/16 and 10.244.0.0/016 are one block; text that is not a CIDR stays as written. */
function cidrKey(text: string): string {
  const cidr = parseCidr(text.trim());
  return cidr ? `${cidr.family}:${cidr.network.toString(16)}/${cidr.prefix}` : text.trim();
}

/** podSubnet as kubeadm reads it: one block, or two (IPv4 and IPv6) separated by a comma. */
function podSubnetBlocks(podSubnet: string): string[] {
  return podSubnet
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

/** Items joined with commas, the first ten of them when there are more. */
function listSome(items: string[], max = 10): string {
  return items.length <= max ? items.join(', ') : `${items.slice(0, max).join(', ')} and ${items.length - max} more`;
}

export function checkPodCidrs(cluster: Cluster, addon: AddonManifest | undefined): Problem[] {
  if (!addon || addon.podCidrSources.length === 0) return [];
  const podSubnet = cluster.kubernetes.podSubnet;
  const want = new Set(podSubnetBlocks(podSubnet).map(cidrKey));
  const have = new Set(addon.podCidrSources.map((s) => cidrKey(s.cidr)));
  if (want.size === have.size && [...want].every((k) => have.has(k))) return [];
  const path: Path = ['network', 'manifest'];
  const configured = listSome(addon.podCidrSources.map((s) => `${clip(s.key)} is ${clip(s.cidr)}`));
  const single = addon.podCidrSources.length === 1;
  return [
    {
      path,
      message: `${formatPath(path)}: the manifest's pod CIDR${single ? '' : 's'} differ${single ? 's' : ''} from kubernetes.podSubnet ${podSubnet}: ${configured}`,
      hint: single
        ? `edit the manifest so that ${clip(addon.podCidrSources[0]!.key)} is ${podSubnet}, or set kubernetes.podSubnet: ${clip(addon.podCidrSources[0]!.cidr)}`
        : `edit the manifest so that the pod CIDRs it configures are kubernetes.podSubnet (${podSubnet}), or set kubernetes.podSubnet to match the manifest`,
    },
  ];
}

interface Needed {
  ref: string;
  why: string;
}

/** The images the cluster runs, each once (by normalized reference), with who needs it. */
export function imagesNeeded(cluster: Cluster): Needed[] {
  const needed = new Map<string, Needed>();
  const add = (ref: string, why: string) => {
    const key = normalizeImageRef(ref);
    if (!needed.has(key)) needed.set(key, { ref, why });
  };
  // kubeadm's preflight pulls every image of its list, its own pause image included, even when
  // containerd's sandbox image is another one.
  for (const ref of kubeadmImages(cluster.kubernetes.version)) add(ref, 'kubeadm');
  add(cluster.containerd.sandboxImage, 'sandbox image');
  for (const ref of cluster.network?.images ?? []) add(ref, 'network add-on');
  // The kubelet starts it from the manifest on every control plane, before any registry could help.
  if (cluster.kubernetes.controlPlaneVip) add(cluster.kubernetes.controlPlaneVip.image, 'kube-vip, kubernetes.controlPlaneVip');
  return [...needed.values()];
}

export function checkOfflineImages(cluster: Cluster, inventory: Inventory): Problem[] {
  if (!cluster.kubernetes.offline) return [];
  const archived = new Set(cluster.kubernetes.images.flatMap((b) => b.imageRefs ?? []).map(normalizeImageRef));
  let needed: Needed[];
  try {
    needed = imagesNeeded(cluster);
  } catch {
    return []; // an unsupported version is reported by checks.ts before resolve runs
  }
  const missing = needed.filter((n) => !archived.has(normalizeImageRef(n.ref)));
  if (missing.length === 0) return [];
  const written = inventory.kubernetes.offline !== undefined;
  const path: Path = cluster.kubernetes.images.length > 0 || !written ? ['kubernetes', 'images'] : ['kubernetes', 'offline'];
  const why =
    path[1] === 'offline' ? 'is true' : written ? 'kubernetes.offline is true' : 'kubernetes.offline is true (the default when kubernetes.images lists an archive)';
  const count = `${missing.length} image${missing.length === 1 ? '' : 's'} the cluster needs`;
  const archives = cluster.kubernetes.images.length === 0 ? `no image archive is given for the ${count}` : `the image archives lack ${count}`;
  return [
    {
      path,
      message: `${formatPath(path)}: ${why}, but ${archives}: ${listSome(missing.map((m) => `${clip(m.ref)} (${m.why})`))}`,
      hint: OFFLINE_HINT,
    },
  ];
}
