// The node-prerequisite test artifacts (node-artifacts.ts) and the local apt repository
// (apt-repo.ts): built here, checked by installing / importing them for real. Needs root (a
// chroot, an overlay mount, and one full test host); skipped otherwise.
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments, parse } from 'yaml';
import { buildContainerdBundle, standinsDir, type Artifacts } from '../hosts/artifacts.js';
import { pointHostAptAt, serveAptRepo, type ServedAptRepo } from '../hosts/apt-repo.js';
import { run, sh } from '../hosts/exec.js';
import { Fleet, startFleet } from '../hosts/fleet.js';
import { writeFleetInventory } from '../hosts/inventory.js';
import { withLock } from '../hosts/lock.js';
import {
  BUSYBOX_REF,
  FLANNEL_IMAGES,
  buildCniPlugins,
  buildCriTools,
  buildKubeadmImageArchive,
  buildOsPackages,
  flannelImages,
  flannelManifest,
  writeFlannelManifest,
  type NodeArtifacts,
  type OsPackagesArtifacts,
} from '../hosts/node-artifacts.js';
import { CACHE_DIR } from '../hosts/paths.js';
import { e2eUnavailableReason } from './support.js';
import { NODE_PREREQUISITE_PACKAGES, assertMinimalRootfs, ensureRootfs } from '../hosts/rootfs.js';

const unavailable = e2eUnavailableReason();
const MIN = 60_000;

async function tarList(file: string): Promise<string[]> {
  return (await run('tar', ['-tvf', file])).stdout.trim().split('\n');
}

describe.skipIf(unavailable)('node-prerequisite artifacts', () => {
  let rootfs: string;
  let osPackages: OsPackagesArtifacts;
  let scratch: string;

  beforeAll(async () => {
    scratch = await fs.mkdtemp(path.join(os.tmpdir(), 'kf-node-artifacts-'));
    rootfs = await ensureRootfs();
    osPackages = await buildOsPackages();
  }, 10 * MIN);

  afterAll(async () => {
    if (scratch) await fs.rm(scratch, { recursive: true, force: true });
  });

  it('the test hosts\' rootfs lacks the node prerequisites (like a minimal cloud image) but has apt and dpkg', async () => {
    await assertMinimalRootfs(rootfs);
    const installed = (await run('dpkg-query', ['--admindir', path.join(rootfs, 'var/lib/dpkg'), '-W', '-f', '${Package} ${Status}\n'])).stdout;
    for (const name of NODE_PREREQUISITE_PACKAGES) expect(installed).not.toMatch(new RegExp(`^${name} install ok installed$`, 'm'));
    expect(installed).toMatch(/^apt install ok installed$/m);
  });

  it('the OS-packages bundle and the apt repository hold the same .debs, flat', async () => {
    const names = osPackages.packages.map((p) => p.name);
    for (const name of NODE_PREREQUISITE_PACKAGES) expect(names).toContain(name);
    const listed = await tarList(osPackages.bundle);
    const entries = listed.map((l) => l.split(/\s+/).pop()!);
    expect(entries.every((e) => /^[^/]+\.deb$/.test(e))).toBe(true);
    expect(entries).toHaveLength(osPackages.packages.length);
    const repo = (await fs.readdir(osPackages.repoDir)).sort();
    expect(repo.filter((f) => f.endsWith('.deb'))).toEqual([...entries].sort());
    expect(repo).toEqual(expect.arrayContaining(['Packages', 'Packages.gz', 'Release']));
    const index = await fs.readFile(path.join(osPackages.repoDir, 'Packages'), 'utf8');
    for (const name of names) expect(index).toMatch(new RegExp(`^Package: ${name}$`, 'm'));
  });

  it('installing the bundle into a throwaway copy of the rootfs gives working tools', async () => {
    const dir = path.join(scratch, 'overlay');
    await fs.mkdir(dir);
    // A private mount namespace: the overlay and /proc go away with it.
    const r = await sh(
      `root=$1; dir=$2; bundle=$3
       mkdir -p "$dir/upper" "$dir/work" "$dir/root"
       exec unshare --mount --propagation private /bin/sh -eu -c '
         mount -t overlay overlay -o "lowerdir=$1,upperdir=$2/upper,workdir=$2/work" "$2/root"
         mount -t proc proc "$2/root/proc"
         mkdir -p "$2/root/tmp/debs"
         tar -xzf "$3" -C "$2/root/tmp/debs"
         export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive
         chroot "$2/root" /bin/sh -eu -c "dpkg -i /tmp/debs/*.deb >/tmp/dpkg.log 2>&1 || { cat /tmp/dpkg.log; exit 1; }
           dpkg --audit
           iptables --version; conntrack --version; socat -V | head -n 2; ebtables --version; ethtool --version"
       ' sh "$root" "$dir" "$bundle"`,
      [rootfs, dir, osPackages.bundle],
      { allowFail: true, timeoutMs: 5 * MIN },
    );
    expect(r.stderr + r.stdout).not.toMatch(/dependency problems|not configured/i);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^iptables v1\.8\.\d+/m);
    expect(r.stdout).toMatch(/^conntrack v1\.4\.\d+/m);
    expect(r.stdout).toMatch(/socat version 1\.7/);
    expect(r.stdout).toMatch(/^ebtables /m);
    expect(r.stdout).toMatch(/^ethtool version 6/m);
  }, 5 * MIN);

  it('the CNI plugins tarball is shaped like the containernetworking-plugins release', async () => {
    const cni = await buildCniPlugins();
    expect(path.basename(cni.path)).toBe(`cni-plugins-linux-amd64-${cni.version}.tgz`);
    expect(cni.version).toMatch(/^v\d+\.\d+\.\d+$/);
    const listed = await tarList(cni.path);
    const files = listed.filter((l) => l.startsWith('-'));
    const names = files.map((l) => l.split(/\s+/).pop()!.replace(/^\.\//, ''));
    expect(names).toEqual(expect.arrayContaining(['bridge', 'loopback', 'host-local', 'portmap']));
    expect(names.every((n) => !n.includes('/'))).toBe(true);
    expect(files.every((l) => l.startsWith('-rwxr-xr-x'))).toBe(true);
  });

  it('the cri-tools tarball holds one executable crictl', async () => {
    const real = path.join(standinsDir(), 'crictl');
    let source: string | undefined;
    if (!existsSync(real)) {
      // The crictl stand-in is being written elsewhere; until it lands, check the shape.
      source = path.join(scratch, 'crictl-placeholder');
      await fs.writeFile(source, '#!/bin/sh\necho "crictl placeholder"\n');
    }
    const out = await buildCriTools(source ? { source } : {});
    expect(path.basename(out)).toBe('crictl-v1.30.0-linux-amd64.tar.gz');
    const listed = await tarList(out);
    expect(listed).toHaveLength(1);
    expect(listed[0]).toMatch(/^-rwxr-xr-x 0\/0 .* crictl$/);
    const content = (await run('tar', ['-xzOf', out, 'crictl'])).stdout;
    expect(content).toBe(await fs.readFile(source ?? real, 'utf8'));
  });

  it('the kubeadm image archive lists every image kubeadm needs, sharing one small layer', async () => {
    const archive = await buildKubeadmImageArchive('1.30.2', flannelImages());
    expect(archive.refs).toEqual([
      'registry.k8s.io/kube-apiserver:v1.30.2',
      'registry.k8s.io/kube-controller-manager:v1.30.2',
      'registry.k8s.io/kube-scheduler:v1.30.2',
      'registry.k8s.io/kube-proxy:v1.30.2',
      'registry.k8s.io/coredns/coredns:v1.11.1',
      'registry.k8s.io/pause:3.9',
      'registry.k8s.io/etcd:3.5.12-0',
      BUSYBOX_REF,
      FLANNEL_IMAGES.cniPlugin,
      FLANNEL_IMAGES.flannel,
    ]);
    const manifest = JSON.parse((await run('tar', ['-xOf', archive.path, 'manifest.json'])).stdout) as { RepoTags: string[]; Layers: string[] }[];
    expect(manifest).toHaveLength(1);
    expect(manifest[0]!.RepoTags).toEqual(archive.refs);
    expect(manifest[0]!.Layers).toHaveLength(1);
    expect((await fs.stat(archive.path)).size).toBeLessThan(4 * 1024 * 1024);
  });

  it('the Flannel manifest has the upstream shape and the pod CIDR', async () => {
    const text = flannelManifest({ podCidr: '10.244.0.0/16' });
    const docs = parseAllDocuments(text).map((d) => d.toJS() as { kind: string; metadata: { name: string; namespace?: string }; [k: string]: unknown });
    expect(docs.map((d) => `${d.kind}/${d.metadata.name}`)).toEqual([
      'Namespace/kube-flannel',
      'ServiceAccount/flannel',
      'ClusterRole/flannel',
      'ClusterRoleBinding/flannel',
      'ConfigMap/kube-flannel-cfg',
      'DaemonSet/kube-flannel-ds',
    ]);
    const cm = docs[4] as unknown as { data: Record<string, string> };
    expect(JSON.parse(cm.data['net-conf.json']!)).toEqual({ Network: '10.244.0.0/16', Backend: { Type: 'vxlan' } });
    const cni = JSON.parse(cm.data['cni-conf.json']!) as { name: string; plugins: { type: string }[] };
    expect(cni.name).toBe('cbr0');
    expect(cni.plugins.map((p) => p.type)).toEqual(['flannel', 'portmap']);
    const ds = docs[5] as unknown as {
      spec: { template: { spec: { initContainers: { name: string; image: string }[]; containers: { name: string; image: string }[]; volumes: Record<string, unknown>[] } } };
    };
    const pod = ds.spec.template.spec;
    expect(pod.initContainers.map((c) => c.name)).toEqual(['install-cni-plugin', 'install-cni']);
    expect(pod.containers.map((c) => c.name)).toEqual(['kube-flannel']);
    expect(new Set([...pod.initContainers, ...pod.containers].map((c) => c.image))).toEqual(new Set(flannelImages()));
    expect(pod.volumes).toEqual(
      expect.arrayContaining([
        { name: 'cni', hostPath: { path: '/etc/cni/net.d' } },
        { name: 'flannel-cfg', configMap: { name: 'kube-flannel-cfg' } },
      ]),
    );
    expect(flannelManifest({ podCidr: '10.200.0.0/16' })).toContain('"Network": "10.200.0.0/16"');
    const file = await writeFlannelManifest(scratch);
    expect(await fs.readFile(file, 'utf8')).toBe(flannelManifest());
  });

  it('the fleet inventory carries the node artifacts', async () => {
    const knownHosts = path.join(scratch, 'known_hosts');
    await fs.writeFile(knownHosts, '');
    const fleet = new Fleet({ slot: 0, ownerPid: process.pid, bridge: 'x', gateway: '10.77.0.1', clientKey: '/k', knownHosts, hosts: [] });
    const artifacts: Artifacts = {
      containerdBundle: '/c.tgz',
      containerdVersion: '1.6.20',
      imageArchive: '/busybox.tar',
      imageRef: BUSYBOX_REF,
      kubernetesBundle: '/k.tgz',
      kubernetesVersion: '1.30.2',
    };
    const node: NodeArtifacts = {
      osPackagesBundle: '/os.tar.gz',
      aptRepoDir: '/repo',
      osPackages: [],
      cniPlugins: '/cni.tgz',
      cniPluginsVersion: 'v1.1.1',
      criTools: '/crictl.tar.gz',
      kubeadmImageArchive: '/images.tar',
      kubeadmImageRefs: [],
      flannelManifest: '/kube-flannel.yml',
      flannelImages: [],
    };
    const read = async (opts: { osPackages?: 'bundle' | 'apt'; withNode?: boolean }) =>
      parse(
        await fs.readFile(
          await writeFleetInventory(fleet, path.join(scratch, 'inv'), { artifacts, ...(opts.withNode === false ? {} : { node }), ...(opts.osPackages ? { osPackages: opts.osPackages } : {}) }),
          'utf8',
        ),
      ) as Record<string, Record<string, unknown>>;
    const bundle = await read({});
    expect(bundle.kubernetes).toMatchObject({ images: ['/images.tar'], criTools: '/crictl.tar.gz', cniPlugins: '/cni.tgz', bundle: '/k.tgz' });
    expect(bundle.network).toEqual({ manifest: '/kube-flannel.yml' });
    expect(bundle.osPackages).toEqual({ bundle: '/os.tar.gz' });
    const apt = await read({ osPackages: 'apt' });
    expect(apt.osPackages).toBeUndefined();
    expect(apt.network).toEqual({ manifest: '/kube-flannel.yml' });
    const plain = await read({ withNode: false });
    expect(plain.kubernetes!.images).toEqual(['/busybox.tar']);
    expect(plain.network).toBeUndefined();
    expect(plain.osPackages).toBeUndefined();
  });

  describe('on a full test host', () => {
    let fleet: Fleet | undefined;
    let served: ServedAptRepo | undefined;

    beforeAll(async () => {
      fleet = await startFleet({ full: 1 });
    }, 5 * MIN);

    afterAll(async () => {
      await served?.close();
      await fleet?.destroy();
    }, 2 * MIN);

    it('apt-get installs iptables and conntrack over SSH from the served repository', async () => {
      const host = fleet!.full[0]!;
      served = await serveAptRepo(fleet!, osPackages.repoDir);
      expect(served.url).toMatch(new RegExp(`^http://${fleet!.gateway.replace(/\./g, '\\.')}:\\d+/$`));
      await pointHostAptAt(host, served.url);
      expect(await host.sh('cat /etc/apt/sources.list; ls /etc/apt/sources.list.d')).toBe(`deb [trusted=yes] ${served.url} ./`);
      expect((await host.exec('command -v iptables || command -v conntrack', { allowFail: true })).code).not.toBe(0);
      const ssh = await run(
        'ssh',
        [
          '-i', fleet!.clientKey,
          '-o', `UserKnownHostsFile=${fleet!.knownHosts}`,
          '-o', 'StrictHostKeyChecking=yes',
          '-o', 'BatchMode=yes',
          '-o', 'ConnectTimeout=10',
          `root@${host.address}`,
          'apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y iptables conntrack',
        ],
        { allowFail: true, timeoutMs: 5 * MIN },
      );
      expect(ssh.code, ssh.stdout + ssh.stderr).toBe(0);
      expect(ssh.stderr).not.toMatch(/^(W|E):/m);
      expect(await host.sh('iptables --version')).toMatch(/^iptables v1\.8/);
      expect(await host.sh('conntrack --version')).toMatch(/^conntrack v1\.4/);
      expect(served.requests).toEqual(expect.arrayContaining([expect.stringMatching(/Packages/), expect.stringMatching(/iptables_.*\.deb$/)]));
    }, 5 * MIN);

    it('ctr -n k8s.io images import of the kubeadm archive creates every ref', async () => {
      const host = fleet!.full[0]!;
      const containerd = await withLock(path.join(CACHE_DIR, 'artifacts.lock'), () => buildContainerdBundle());
      const archive = await buildKubeadmImageArchive('1.30.2', flannelImages());
      const hostRoot = path.join(host.record.dir, 'root');
      await fs.copyFile(containerd.path, path.join(hostRoot, 'root/containerd.tar.gz'));
      await fs.copyFile(archive.path, path.join(hostRoot, 'root/images.tar'));
      const listed = await host.sh(
        `set -eu
         tar -xzf /root/containerd.tar.gz -C /usr/local
         systemd-run --unit=kf-test-containerd /usr/local/bin/containerd >/dev/null 2>&1
         for i in $(seq 1 100); do [ -S /run/containerd/containerd.sock ] && break; sleep 0.1; done
         ctr -n k8s.io images import /root/images.tar >/dev/null
         ctr -n k8s.io images ls -q`,
        { timeoutMs: 3 * MIN },
      );
      // The CRI plugin also names each image by its config digest ("sha256:...").
      expect(listed.split('\n').filter((ref) => !ref.startsWith('sha256:')).sort()).toEqual([...archive.refs].sort());
    }, 5 * MIN);
  });
});
