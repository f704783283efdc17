// Test artifacts, built from Debian packages on this machine and never downloaded from the
// internet: a containerd bundle shaped like the official release tarball, a small image
// archive for offline import, and a "Kubernetes bundle" holding the kubeadm/kubelet STAND-INS.
// Each is cached in CACHE_DIR/artifacts and rebuilt only when its inputs change.
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { pathExists } from './exec.js';
import { debVersion, tarInto, unpackDeb, upToDate, upstreamVersion, writeBusyboxArchive } from './debian-artifacts.js';
import { withLock } from './lock.js';
import { CACHE_DIR } from './paths.js';
import { buildNodeArtifacts, type NodeArtifacts } from './node-artifacts.js';

const ARTIFACTS = path.join(CACHE_DIR, 'artifacts');
const HERE = path.dirname(fileURLToPath(import.meta.url));

/** The stand-in scripts live in the source tree (test/hosts/standins), also when run from dist/. */
export function standinsDir(): string {
  const candidates = [path.join(HERE, 'standins'), path.resolve(HERE, '../../../test/hosts/standins')];
  return candidates.find((p) => existsSync(path.join(p, 'kubeadm'))) ?? candidates[0]!;
}


export interface Artifacts {
  containerdBundle: string;
  containerdVersion: string;
  imageArchive: string;
  /** The image reference the archive holds, as `ctr -n k8s.io images ls` lists it. */
  imageRef: string;
  kubernetesBundle: string;
  kubernetesVersion: string;
  /**
   * What a node needs beyond these (OS packages, crictl, CNI plugins, kubeadm's images, an
   * add-on). Tests that never run kubeadm (stub playbooks) may leave it out.
   */
  node?: NodeArtifacts;
}


export { upstreamVersion } from './debian-artifacts.js';

export async function buildContainerdBundle(): Promise<{ path: string; version: string }> {
  const version = upstreamVersion(await debVersion('containerd'));
  const runcVersion = await debVersion('runc');
  const out = path.join(ARTIFACTS, `containerd-${version}-linux-amd64.tar.gz`);
  const inputs = `containerd=${await debVersion('containerd')} runc=${runcVersion} layout=1\n`;
  if (await upToDate(out, inputs)) return { path: out, version };

  const work = path.join(ARTIFACTS, 'work');
  await unpackDeb('containerd', path.join(work, 'containerd'));
  await unpackDeb('runc', path.join(work, 'runc'));
  const stage = path.join(work, 'containerd-bundle');
  await fs.rm(stage, { recursive: true, force: true });
  await fs.mkdir(path.join(stage, 'bin'), { recursive: true });
  await fs.mkdir(path.join(stage, 'sbin'), { recursive: true });
  // The official tarball: bin/containerd, bin/ctr, bin/containerd-shim-runc-v2 (and more shims).
  const debBin = path.join(work, 'containerd/root/usr/bin');
  for (const name of await fs.readdir(debBin)) {
    if (name === 'containerd' || name === 'ctr' || name.startsWith('containerd-shim')) {
      await fs.copyFile(path.join(debBin, name), path.join(stage, 'bin', name));
      await fs.chmod(path.join(stage, 'bin', name), 0o755);
    }
  }
  for (const required of ['containerd', 'ctr', 'containerd-shim-runc-v2']) {
    if (!(await pathExists(path.join(stage, 'bin', required)))) throw new Error(`Debian's containerd has no ${required}`);
  }
  // runc ships separately upstream; the bundle carries it at sbin/runc (→ /usr/local/sbin).
  await fs.copyFile(path.join(work, 'runc/root/usr/sbin/runc'), path.join(stage, 'sbin/runc'));
  await fs.chmod(path.join(stage, 'sbin/runc'), 0o755);
  await tarInto(stage, out, ['bin', 'sbin'], true);
  await fs.writeFile(`${out}.inputs`, inputs);
  return { path: out, version };
}

/**
 * A docker-archive image (what `docker save` writes): manifest.json, a config blob and one
 * layer with a static busybox. `ctr -n k8s.io images import` accepts it.
 */
export async function buildImageArchive(): Promise<{ path: string; ref: string }> {
  const ref = 'kubeforge.test/busybox:standin';
  const busyboxVersion = await debVersion('busybox-static');
  const out = path.join(ARTIFACTS, 'images-busybox.tar');
  const inputs = `busybox-static=${busyboxVersion} ref=${ref} layout=2\n`;
  if (await upToDate(out, inputs)) return { path: out, ref };
  await writeBusyboxArchive(path.join(ARTIFACTS, 'work'), out, [ref], 'kubeforge test harness: busybox-static from Debian');
  await fs.writeFile(`${out}.inputs`, inputs);
  return { path: out, ref };
}

/**
 * The "Kubernetes bundle" for tests: bin/kubeadm, bin/kubelet, bin/kubectl and bin/kube-apiserver-standin
 * are the STAND-INS from test/hosts/standins, with the Kubernetes version they pretend to be baked in.
 */
export async function buildKubernetesStandinBundle(kubernetesVersion: string): Promise<string> {
  const src = standinsDir();
  const out = path.join(ARTIFACTS, `kubernetes-standin-${kubernetesVersion}-linux-amd64.tar.gz`);
  const stage = path.join(ARTIFACTS, 'work', `kubernetes-standin-${kubernetesVersion}`);
  await fs.rm(stage, { recursive: true, force: true });
  await fs.mkdir(path.join(stage, 'bin'), { recursive: true });
  const tools: Array<[source: string, installed: string]> = [
    ['kubeadm', 'kubeadm'],
    ['kubelet', 'kubelet'],
    ['kubectl', 'kubectl'],
    ['kube-apiserver', 'kube-apiserver-standin'],
    // What the etcd image's etcdctl/etcdutl do, run by the crictl stand-in's `exec` in the etcd Pod.
    ['etcd', 'etcd-standin'],
  ];
  for (const [tool, name] of tools) {
    const text = await fs.readFile(path.join(src, tool), 'utf8');
    const baked = bakeVersion(text, kubernetesVersion);
    await fs.writeFile(path.join(stage, 'bin', name), baked, { mode: 0o755 });
  }
  await fs.writeFile(
    path.join(stage, 'STANDIN-README.txt'),
    'This is NOT Kubernetes. bin/kubeadm, bin/kubelet, bin/kubectl and bin/kube-apiserver-standin are test\n'
    + 'stand-ins from kubeforge\'s test harness (see test/hosts/standins/README.md).\n',
  );
  await tarInto(stage, out, ['bin', 'STANDIN-README.txt'], true);
  return out;
}

/** The stand-ins read their version from a placeholder line that the bundle builder fills. */
export function bakeVersion(script: string, version: string): string {
  const placeholder = /^STANDIN_KUBERNETES_VERSION = .*$/m;
  if (!placeholder.test(script)) throw new Error('stand-in script has no STANDIN_KUBERNETES_VERSION line');
  return script.replace(placeholder, `STANDIN_KUBERNETES_VERSION = ${JSON.stringify(`v${version.replace(/^v/, '')}`)}`);
}

export async function buildArtifacts(kubernetesVersion = '1.30.2'): Promise<Artifacts> {
  return withLock(path.join(CACHE_DIR, 'artifacts.lock'), async () => {
    await fs.mkdir(ARTIFACTS, { recursive: true });
    const containerd = await buildContainerdBundle();
    const image = await buildImageArchive();
    const kubernetesBundle = await buildKubernetesStandinBundle(kubernetesVersion);
    const node = await buildNodeArtifacts(kubernetesVersion);
    return {
      node,
      containerdBundle: containerd.path,
      containerdVersion: containerd.version,
      imageArchive: image.path,
      imageRef: image.ref,
      kubernetesBundle,
      kubernetesVersion,
    };
  });
}
