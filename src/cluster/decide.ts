// The cluster phase's decisions (kubeadm init or join, join material, the network add-on, the
// Ready wait), each from facts already gathered. Pure: orchestrate.ts acts on them during `up`,
// `plan` prints them, so the two never disagree about what a run would do.
import { compareVersions, type Bundle, type Cluster, type Version } from '../model.js';
import type { JoinMaterial } from './secrets.js';

/** kubeadm init runs on the init host when it has no admin.conf (it was never initialised). */
export function initNeeded(adminConfPresent: boolean): boolean {
  return !adminConfPresent;
}

/** A host joins when it has no kubelet.conf (kubeadm init and join both write it). */
export function joinNeeded(member: boolean): boolean {
  return !member;
}

/**
 * kubeadm init uploads the control-plane certificates (and kubeforge makes their key) only when
 * other control planes will join.
 */
export function initMakesCertificateKey(cluster: Cluster): boolean {
  return cluster.hosts.filter((h) => h.role === 'control-plane').length > 1;
}

/**
 * Where a joining host's material comes from: what this run's kubeadm init made (a token, and a
 * certificate key for control planes when init made one), or freshly minted on the init host
 * (a rerun: the init token may have expired after 24 h, uploaded certificates after 2 h).
 */
export function joinMaterialFrom(initMaterial: Pick<JoinMaterial, 'certificateKey'> | undefined, controlPlane: boolean): 'init' | 'mint' {
  return initMaterial && (!controlPlane || initMaterial.certificateKey) ? 'init' : 'mint';
}

/** The add-on is applied when the manifest's sha256 is not the one its marker holds. */
export function addonNeedsApply(appliedSha256: string, manifest: Bundle): boolean {
  return appliedSha256 !== manifest.sha256;
}

/** up waits for each node to be Ready only with a network add-on (none is Ready without one). */
export function waitsForReady(cluster: Cluster, waitReadyMs: number): boolean {
  return cluster.network !== undefined && waitReadyMs > 0;
}

// ---- Kubernetes upgrades (kubeadm's procedure; skew rules from kubeadm's policy.go and the
// version skew policy: one minor at a time, no downgrade, kubelet never newer than the API server).

/** What the cluster says about its versions, read through kubectl on the init host. */
export interface ClusterVersions {
  /** kubeadm-config's ClusterConfiguration.kubernetesVersion: the control plane's version. */
  cluster: Version;
  nodes: Array<{ name: string; kubelet: Version; ready: boolean; unschedulable: boolean }>;
}

export type UpgradeDecision =
  | { kind: 'none' }
  | { kind: 'refuse'; message: string; hint: string }
  | {
      kind: 'upgrade';
      from: string;
      to: string;
      /** The init host runs `kubeadm upgrade apply` (undefined: the control plane is already at the target). */
      apply?: string;
      /** Other control planes, `kubeadm upgrade node` one at a time, in inventory order. */
      controlPlanes: string[];
      /** Workers in batches of --max-unavailable, each batch drained and upgraded together. */
      workerBatches: string[][];
    };

const minorText = (v: Version) => `${v.major}.${v.minor}`;

/**
 * Whether `up` upgrades, and in which order: the init host applies, the other control planes
 * follow one at a time, the workers in batches. Hosts whose kubelet already runs the target
 * version are done (decided by facts, so a rerun after a failure continues where it stopped).
 * Only `hosts` (this run's selection) take part.
 */
export function decideUpgrade(
  cluster: Pick<Cluster, 'hosts'>,
  target: Version,
  versions: ClusterVersions,
  opts: { hosts: ReadonlySet<string>; maxUnavailable: number },
): UpgradeDecision {
  const current = versions.cluster;
  const cmp = compareVersions(target, current);
  if (cmp < 0) {
    return {
      kind: 'refuse',
      message: `the cluster runs Kubernetes ${current.text} and the inventory says ${target.text}: kubeforge does not downgrade`,
      hint: `set kubernetes.version back to ${current.text} (with its bundle); a downgrade means a new cluster (kubeforge reset, then up)`,
    };
  }
  if (target.major !== current.major || target.minor > current.minor + 1) {
    const path: string[] = [];
    for (let m = current.minor + 1; m <= target.minor && target.major === current.major; m++) path.push(`${current.major}.${m}.x`);
    return {
      kind: 'refuse',
      message: `the cluster runs Kubernetes ${current.text} and the inventory says ${target.text}: kubeadm upgrades one minor version at a time`,
      hint: path.length > 1 ? `upgrade to ${path.slice(0, -1).join(', then ')} first, then ${path.at(-1)}` : `upgrade within ${current.major}.x one minor version at a time`,
    };
  }
  const newer = versions.nodes.filter((n) => compareVersions(n.kubelet, target) > 0);
  if (newer.length > 0) {
    return {
      kind: 'refuse',
      message: `the kubelet on ${newer.map((n) => `${n.name} (${n.kubelet.text})`).join(', ')} is newer than ${target.text}: a kubelet must never be newer than the API server`,
      hint: `set kubernetes.version to at least ${newer.map((n) => n.kubelet.text).sort().at(-1)}`,
    };
  }
  const behind = new Set(versions.nodes.filter((n) => compareVersions(n.kubelet, target) < 0).map((n) => n.name));
  const apply = cmp > 0 ? cluster.hosts.find((h) => h.role === 'control-plane')?.name : undefined;
  if (apply && !opts.hosts.has(apply)) {
    return {
      kind: 'refuse',
      message: `the control plane runs ${current.text} and must be upgraded first, on ${apply}, which this run leaves out`,
      hint: `include ${apply} in --limit (or run without --limit)`,
    };
  }
  const takesPart = (h: { name: string }) => opts.hosts.has(h.name) && behind.has(h.name);
  const controlPlanes = cluster.hosts.filter((h) => h.role === 'control-plane' && h.name !== apply && takesPart(h)).map((h) => h.name);
  const workers = cluster.hosts.filter((h) => h.role === 'worker' && takesPart(h)).map((h) => h.name);
  const workerBatches: string[][] = [];
  for (let i = 0; i < workers.length; i += opts.maxUnavailable) workerBatches.push(workers.slice(i, i + opts.maxUnavailable));
  // (With the control plane already applied — a run that stopped — the init host, if its kubelet
  // is behind, is among the control planes that run `kubeadm upgrade node`.)
  if (!apply && controlPlanes.length === 0 && workers.length === 0) return { kind: 'none' };
  return {
    kind: 'upgrade',
    from: lowest(current, versions.nodes.map((n) => n.kubelet)).text,
    to: target.text,
    ...(apply ? { apply } : {}),
    controlPlanes,
    workerBatches,
  };
}

function lowest(first: Version, rest: Version[]): Version {
  return rest.reduce((a, b) => (compareVersions(b, a) < 0 ? b : a), first);
}

/** The order a rollout goes in: each group finishes (all of it) before the next starts. */
export function upgradeGroups(d: Extract<UpgradeDecision, { kind: 'upgrade' }>): string[][] {
  return [...(d.apply ? [[d.apply]] : []), ...d.controlPlanes.map((h) => [h]), ...d.workerBatches];
}

/** One line for plan and the run's log: "upgrade 1.30.2 → 1.31.1: apply on cp1, node on cp2, workers w1, w2 in batches of 1". */
export function describeUpgrade(d: Extract<UpgradeDecision, { kind: 'upgrade' }>, maxUnavailable: number): string {
  const parts: string[] = [];
  if (d.apply) parts.push(`apply on ${d.apply}`);
  if (d.controlPlanes.length) parts.push(`node on ${d.controlPlanes.join(', ')}`);
  const workers = d.workerBatches.flat();
  if (workers.length) parts.push(`workers ${workers.join(', ')} in batches of ${maxUnavailable}`);
  return `upgrade ${d.from} → ${d.to}: ${parts.join(', ')}`;
}

/**
 * The containerd rolling restart's order, for the nodes whose containerd steps left it pending:
 * control planes one at a time, then workers in batches of --max-unavailable (inventory order).
 */
export function containerdRollGroups(cluster: Pick<Cluster, 'hosts'>, pending: ReadonlySet<string>, maxUnavailable: number): string[][] {
  const controlPlanes = cluster.hosts.filter((h) => h.role === 'control-plane' && pending.has(h.name)).map((h) => [h.name]);
  const workers = cluster.hosts.filter((h) => h.role === 'worker' && pending.has(h.name)).map((h) => h.name);
  const batches: string[][] = [];
  for (let i = 0; i < workers.length; i += maxUnavailable) batches.push(workers.slice(i, i + maxUnavailable));
  return [...controlPlanes, ...batches];
}
