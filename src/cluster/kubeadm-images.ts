// What `kubeadm config images list` prints for each supported Kubernetes version, and the pause
// image kubeadm expects as the sandbox image. Read from upstream kubeadm's
// cmd/kubeadm/app/constants/constants.go (PauseVersion, CoreDNSVersion, SupportedEtcdVersion),
// release by release; patch releases moved etcd and CoreDNS forward, so a minor release is a
// list of "from this patch on" entries. Pure data and lookups: no I/O.
import type { Version } from '../model.js';

export const KUBEADM_REGISTRY = 'registry.k8s.io';

interface ImageSet {
  /** First patch release of the minor this entry holds for. */
  fromPatch: number;
  etcd: string;
  coredns: string;
  pause: string;
}

/** Minor release → entries in ascending fromPatch order. */
const TABLE: Record<number, ImageSet[]> = {
  28: [
    { fromPatch: 0, etcd: '3.5.9-0', coredns: 'v1.10.1', pause: '3.9' },
    { fromPatch: 6, etcd: '3.5.10-0', coredns: 'v1.10.1', pause: '3.9' },
    { fromPatch: 8, etcd: '3.5.12-0', coredns: 'v1.10.1', pause: '3.9' },
    { fromPatch: 14, etcd: '3.5.15-0', coredns: 'v1.10.1', pause: '3.9' },
  ],
  29: [
    { fromPatch: 0, etcd: '3.5.10-0', coredns: 'v1.11.1', pause: '3.9' },
    { fromPatch: 3, etcd: '3.5.12-0', coredns: 'v1.11.1', pause: '3.9' },
    { fromPatch: 9, etcd: '3.5.15-0', coredns: 'v1.11.1', pause: '3.9' },
  ],
  30: [
    { fromPatch: 0, etcd: '3.5.12-0', coredns: 'v1.11.1', pause: '3.9' },
    { fromPatch: 5, etcd: '3.5.15-0', coredns: 'v1.11.3', pause: '3.9' },
  ],
  31: [
    { fromPatch: 0, etcd: '3.5.15-0', coredns: 'v1.11.1', pause: '3.10' },
    { fromPatch: 1, etcd: '3.5.15-0', coredns: 'v1.11.3', pause: '3.10' },
  ],
  32: [{ fromPatch: 0, etcd: '3.5.16-0', coredns: 'v1.11.3', pause: '3.10' }],
  33: [{ fromPatch: 0, etcd: '3.5.21-0', coredns: 'v1.12.0', pause: '3.10' }],
  34: [{ fromPatch: 0, etcd: '3.6.4-0', coredns: 'v1.12.1', pause: '3.10.1' }],
  35: [{ fromPatch: 0, etcd: '3.6.6-0', coredns: 'v1.13.1', pause: '3.10.1' }],
};

export const SUPPORTED_MINORS = Object.keys(TABLE).map(Number);

function imageSet(version: Version): ImageSet {
  const entries = TABLE[version.minor];
  if (version.major !== 1 || !entries) throw new Error(`no kubeadm image table for Kubernetes ${version.text}`);
  return [...entries].reverse().find((e) => version.patch >= e.fromPatch) ?? entries[0]!;
}

/** The pause image kubeadm of this version expects (its sandbox image check warns on another). */
export function kubeadmPauseImage(version: Version): string {
  return `${KUBEADM_REGISTRY}/pause:${imageSet(version).pause}`;
}

/** `kubeadm config images list --kubernetes-version vX.Y.Z`, in kubeadm's order. */
export function kubeadmImages(version: Version): string[] {
  const set = imageSet(version);
  const v = `v${version.text}`;
  return [
    `${KUBEADM_REGISTRY}/kube-apiserver:${v}`,
    `${KUBEADM_REGISTRY}/kube-controller-manager:${v}`,
    `${KUBEADM_REGISTRY}/kube-scheduler:${v}`,
    `${KUBEADM_REGISTRY}/kube-proxy:${v}`,
    `${KUBEADM_REGISTRY}/coredns/coredns:${set.coredns}`,
    `${KUBEADM_REGISTRY}/pause:${set.pause}`,
    `${KUBEADM_REGISTRY}/etcd:${set.etcd}`,
  ];
}

/**
 * containerd (and `ctr images ls`) name an image by its full reference: "nginx" is
 * docker.io/library/nginx:latest. Manifests and archives may use either form.
 */
export function normalizeImageRef(ref: string): string {
  let name = ref.trim();
  let digest = '';
  const at = name.indexOf('@');
  if (at >= 0) [name, digest] = [name.slice(0, at), name.slice(at)];
  const slash = name.indexOf('/');
  const first = slash < 0 ? '' : name.slice(0, slash);
  const hasRegistry = slash >= 0 && (first.includes('.') || first.includes(':') || first === 'localhost');
  if (!hasRegistry) name = `docker.io/${slash < 0 ? `library/${name}` : name}`;
  const lastSegment = name.slice(name.lastIndexOf('/') + 1);
  if (!digest && !lastSegment.includes(':')) name = `${name}:latest`;
  return name + digest;
}
