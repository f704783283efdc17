// The cluster phase's decisions (kubeadm init or join, join material, the network add-on, the
// Ready wait), each from facts already gathered. Pure: orchestrate.ts acts on them during `up`,
// `plan` prints them, so the two never disagree about what a run would do.
import type { Bundle, Cluster } from '../model.js';
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
