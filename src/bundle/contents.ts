// What the bundles on the laptop carry, read once per run for the preflight: whether crictl
// comes with the containerd or cri-tools bundle, whether kubectl comes with the Kubernetes one.
import type { Bundle, Cluster } from '../model.js';
import type { BundleContents } from '../run/preflight.js';
import { listTarFiles } from './image-refs.js';

async function holds(bundle: Bundle | undefined, wanted: (name: string) => boolean): Promise<boolean> {
  if (!bundle) return false;
  try {
    return (await listTarFiles(bundle.path)).some(wanted);
  } catch {
    return false; // an unreadable tarball fails its own step with a clearer message
  }
}

export async function bundleContents(cluster: Cluster): Promise<BundleContents> {
  const base = (name: string) => name.split('/').pop() ?? name;
  // Reading a tarball means decompressing all of it: only when the answer can matter. A
  // cri-tools bundle is there for its crictl (its own step says so if it lacks one); kubeadm
  // checks crictl only up to 1.31; kubectl is needed only to apply a network add-on.
  const crictlMatters = cluster.kubernetes.criTools === undefined && cluster.kubernetes.version.minor <= 31;
  const [fromContainerd, kubectl] = await Promise.all([
    crictlMatters ? holds(cluster.containerd.bundle, (n) => n === 'bin/crictl') : Promise.resolve(false),
    cluster.network ? holds(cluster.kubernetes.bundle, (n) => n === 'bin/kubectl' || base(n) === 'kubectl') : Promise.resolve(false),
  ]);
  return { crictl: cluster.kubernetes.criTools !== undefined || fromContainerd, kubectl };
}
