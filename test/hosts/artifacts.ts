// Test artifacts, built from Debian packages on this machine and never downloaded from the
// internet: a containerd bundle shaped like the official release tarball, a small image
// archive for offline import, and a "Kubernetes bundle" holding the kubeadm/kubelet STAND-INS.
// Each is cached in CACHE_DIR/artifacts and rebuilt only when its inputs change.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { pathExists, run, sh } from './exec.js';
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


/** Deterministic tar.gz: same inputs, same bytes, same sha256. */
async function tarGz(dir: string, out: string, entries: string[]): Promise<void> {
  await sh(
    'd=$1; out=$2; shift 2; tar -C "$d" --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -cf - "$@" | gzip -n -9 > "$out.tmp" && mv "$out.tmp" "$out"',
    [dir, out, ...entries],
  );
}

async function debVersion(pkg: string): Promise<string> {
  const r = await run('apt-cache', ['policy', pkg]);
  const candidate = /Candidate:\s*(\S+)/.exec(r.stdout)?.[1];
  if (!candidate || candidate === '(none)') {
    throw new Error(`Debian package ${pkg} is not available to apt (run apt-get update first)`);
  }
  return candidate;
}

/** Download and unpack a Debian package into dir (cached). */
async function unpackDeb(pkg: string, dir: string): Promise<void> {
  if (await pathExists(path.join(dir, '.unpacked'))) return;
  await fs.rm(dir, { recursive: true, force: true });
  await fs.mkdir(dir, { recursive: true });
  await run('apt-get', ['download', pkg], { cwd: dir });
  const deb = (await fs.readdir(dir)).find((f) => f.endsWith('.deb'));
  if (!deb) throw new Error(`apt-get download ${pkg} produced no .deb`);
  await run('dpkg-deb', ['-x', deb, 'root'], { cwd: dir });
  await fs.writeFile(path.join(dir, '.unpacked'), '');
}

/** "1.6.20~ds1-1+b1" → "1.6.20" */
export function upstreamVersion(debianVersion: string): string {
  const m = /^(?:\d+:)?(\d+\.\d+\.\d+)/.exec(debianVersion);
  if (!m?.[1]) throw new Error(`cannot read an upstream version from ${debianVersion}`);
  return m[1];
}

export async function buildContainerdBundle(): Promise<{ path: string; version: string }> {
  const version = upstreamVersion(await debVersion('containerd'));
  const runcVersion = await debVersion('runc');
  const out = path.join(ARTIFACTS, `containerd-${version}-linux-amd64.tar.gz`);
  const stamp = `${out}.inputs`;
  const inputs = `containerd=${await debVersion('containerd')} runc=${runcVersion} layout=1\n`;
  if ((await pathExists(out)) && (await fs.readFile(stamp, 'utf8').catch(() => '')) === inputs) return { path: out, version };

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
  await tarGz(stage, out, ['bin', 'sbin']);
  await fs.writeFile(stamp, inputs);
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
  const stamp = `${out}.inputs`;
  const inputs = `busybox-static=${busyboxVersion} ref=${ref} layout=1\n`;
  if ((await pathExists(out)) && (await fs.readFile(stamp, 'utf8').catch(() => '')) === inputs) return { path: out, ref };

  const work = path.join(ARTIFACTS, 'work');
  await unpackDeb('busybox-static', path.join(work, 'busybox'));
  const stage = path.join(work, 'image');
  await fs.rm(stage, { recursive: true, force: true });
  await fs.mkdir(path.join(stage, 'rootfs/bin'), { recursive: true });
  await fs.copyFile(path.join(work, 'busybox/root/bin/busybox'), path.join(stage, 'rootfs/bin/busybox'));
  await fs.chmod(path.join(stage, 'rootfs/bin/busybox'), 0o755);
  await fs.symlink('busybox', path.join(stage, 'rootfs/bin/sh'));
  await fs.mkdir(path.join(stage, 'archive'), { recursive: true });
  const layerTar = path.join(stage, 'layer.tar');
  await sh('tar -C "$1" --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -cf "$2" bin', [path.join(stage, 'rootfs'), layerTar]);
  const layerSha = createHash('sha256').update(await fs.readFile(layerTar)).digest('hex');
  const config = JSON.stringify({
    architecture: 'amd64',
    os: 'linux',
    config: { Cmd: ['/bin/sh'], Env: ['PATH=/bin'] },
    rootfs: { type: 'layers', diff_ids: [`sha256:${layerSha}`] },
    history: [{ created_by: 'kubeforge test harness: busybox-static from Debian' }],
  });
  const configSha = createHash('sha256').update(config).digest('hex');
  await fs.mkdir(path.join(stage, 'archive', layerSha));
  await fs.rename(layerTar, path.join(stage, 'archive', layerSha, 'layer.tar'));
  await fs.writeFile(path.join(stage, 'archive', `${configSha}.json`), config);
  await fs.writeFile(
    path.join(stage, 'archive', 'manifest.json'),
    JSON.stringify([{ Config: `${configSha}.json`, RepoTags: [ref], Layers: [`${layerSha}/layer.tar`] }]),
  );
  await sh('cd "$1" && tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -cf "$2.tmp" manifest.json *.json */layer.tar && mv "$2.tmp" "$2"', [
    path.join(stage, 'archive'),
    out,
  ]);
  await fs.writeFile(stamp, inputs);
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
  await tarGz(stage, out, ['bin', 'STANDIN-README.txt']);
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
