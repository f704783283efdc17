// Test artifacts for kubeforge's "node prerequisites", built from Debian packages on this
// machine and never downloaded from the internet:
//   - the OS packages real kubeadm's preflight wants (iptables, conntrack, ebtables, ethtool,
//     socat) with exactly the dependencies the test hosts' root filesystem lacks, as an
//     offline bundle of .deb files and as a flat apt repository (served by apt-repo.ts);
//   - a containernetworking-plugins release tarball and a cri-tools (crictl STAND-IN) tarball;
//   - one image archive holding every image `kubeadm config images list` names (plus the
//     network add-on's), all sharing one busybox layer: the hosts reach no registry;
//   - a Flannel-shaped network add-on manifest.
// Each is cached in CACHE_DIR/artifacts and rebuilt only when its inputs change.
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { stringify } from 'yaml';
import { kubeadmImages } from '../../src/cluster/kubeadm-images.js';
import { parseVersion } from '../../src/model.js';
import { standinsDir } from './artifacts.js';
import { debVersion, tarInto, unpackDeb, upToDate, upstreamVersion, writeBusyboxArchive } from './debian-artifacts.js';
import { pathExists, run, sh } from './exec.js';
import { withLock } from './lock.js';
import { CACHE_DIR } from './paths.js';
import { NODE_PREREQUISITE_PACKAGES, ensureRootfs } from './rootfs.js';

const ARTIFACTS = path.join(CACHE_DIR, 'artifacts');
const WORK = path.join(ARTIFACTS, 'work-node');

export const OS_PACKAGES_BUNDLE_NAME = 'os-packages-debian12-amd64.tar.gz';
export const CRI_TOOLS_VERSION = 'v1.30.0';
export const BUSYBOX_REF = 'kubeforge.test/busybox:standin';
export const DEFAULT_POD_CIDR = '10.244.0.0/16';
export const FLANNEL_IMAGES = {
  flannel: 'docker.io/flannel/flannel:v0.25.5',
  cniPlugin: 'docker.io/flannel/flannel-cni-plugin:v1.5.1-flannel1',
} as const;

export interface NodeArtifacts {
  /** Offline OS-packages bundle: the .deb files flat at the top level. */
  osPackagesBundle: string;
  /** Flat apt repository (the same .debs, Packages, Packages.gz, Release); see apt-repo.ts. */
  aptRepoDir: string;
  /** What the bundle and the repository hold, "name=version", sorted. */
  osPackages: string[];
  /** cni-plugins-linux-amd64-vX.Y.Z.tgz */
  cniPlugins: string;
  cniPluginsVersion: string;
  /** crictl-v1.30.0-linux-amd64.tar.gz (crictl is a STAND-IN). */
  criTools: string;
  kubeadmImageArchive: string;
  /** Every ref the archive holds: kubeadm's images, the busybox test image, the add-on's. */
  kubeadmImageRefs: string[];
  /** Path of the Flannel-shaped manifest (podCidr 10.244.0.0/16, kubeforge's default). */
  flannelManifest: string;
  flannelImages: string[];
}

function lockFor(name: string): string {
  return path.join(CACHE_DIR, `node-artifacts-${name}.lock`);
}

const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');

// ---------------------------------------------------------------------------------------------
// OS packages

export interface OsPackage {
  name: string;
  version: string;
  arch: string;
}

/**
 * What `apt-get install --no-install-recommends iptables conntrack ebtables ethtool socat`
 * would install into the test hosts' root filesystem: apt on this machine, with its package
 * lists, simulating against the rootfs's own dpkg status. Dependencies the rootfs already has
 * are left out; one it has in too old a version would be listed (as an upgrade).
 */
export async function osPackagesPlan(rootfs?: string): Promise<OsPackage[]> {
  const root = rootfs ?? (await ensureRootfs());
  const r = await run('apt-get', [
    'install',
    '--simulate',
    '--no-install-recommends',
    '-o', `Dir::State::status=${path.join(root, 'var/lib/dpkg/status')}`,
    '-o', 'Dir::State::extended_states=/dev/null',
    '-o', 'APT::Architecture=amd64',
    ...NODE_PREREQUISITE_PACKAGES,
  ]);
  const plan: OsPackage[] = [];
  for (const line of r.stdout.split('\n')) {
    // "Inst libnftnl11 (1.2.4-2 Debian:12.15/oldstable [amd64])", "Inst x [old] (new ...)"
    const m = /^Inst (\S+) (?:\[\S+\] )?\((\S+) .*\[(\S+)\]\)/.exec(line);
    if (m) plan.push({ name: m[1]!.replace(/:amd64$/, ''), version: m[2]!, arch: m[3]! });
  }
  for (const name of NODE_PREREQUISITE_PACKAGES) {
    if (!plan.some((p) => p.name === name)) {
      throw new Error(`apt would not install ${name} into the test-host rootfs (already there?):\n${r.stdout}`);
    }
  }
  return plan.sort((a, b) => a.name.localeCompare(b.name));
}

/** The pool file name of a package: no epoch, as Debian's archive names them. */
function debFileName(p: OsPackage): string {
  return `${p.name}_${p.version.replace(/^\d+:/, '')}_${p.arch}.deb`;
}

/**
 * `Release` for a flat repository, so apt finds a proper index (the Packages files' hashes)
 * instead of warning that there is none. Unsigned: sources use [trusted=yes].
 */
async function releaseFile(repo: string): Promise<string> {
  const lines = ['Origin: kubeforge-tests', 'Label: kubeforge-tests', 'Architectures: amd64 all', `Date: ${new Date(0).toUTCString()}`];
  const files: { name: string; size: number; sha: string; md5: string }[] = [];
  for (const name of ['Packages', 'Packages.gz']) {
    const data = await fs.readFile(path.join(repo, name));
    files.push({ name, size: data.length, sha: sha256(data), md5: createHash('md5').update(data).digest('hex') });
  }
  lines.push('MD5Sum:', ...files.map((f) => ` ${f.md5} ${f.size} ${f.name}`));
  lines.push('SHA256:', ...files.map((f) => ` ${f.sha} ${f.size} ${f.name}`));
  return `${lines.join('\n')}\n`;
}

export interface OsPackagesArtifacts {
  bundle: string;
  repoDir: string;
  packages: OsPackage[];
}

/**
 * The node prerequisites and the dependencies the test hosts lack, as an offline bundle
 * (os-packages-debian12-amd64.tar.gz, .debs flat at the top) and as a flat apt repository
 * (usable as `deb [trusted=yes] http://IP:PORT/ ./`).
 */
export async function buildOsPackages(): Promise<OsPackagesArtifacts> {
  const rootfs = await ensureRootfs();
  return withLock(lockFor('os-packages'), async () => {
    const packages = await osPackagesPlan(rootfs);
    const out = path.join(ARTIFACTS, OS_PACKAGES_BUNDLE_NAME);
    const repoDir = path.join(ARTIFACTS, 'apt-repo-debian12-amd64');
    const inputs = `${packages.map((p) => `${p.name}=${p.version} ${p.arch}`).join('\n')}\nlayout=1\n`;
    if ((await upToDate(out, inputs)) && (await upToDate(path.join(repoDir, 'Release'), inputs))) {
      return { bundle: out, repoDir, packages };
    }
    await fs.mkdir(ARTIFACTS, { recursive: true });
    const debs = path.join(WORK, 'os-packages');
    await fs.rm(debs, { recursive: true, force: true });
    await fs.mkdir(debs, { recursive: true });
    await run('apt-get', ['download', ...packages.map((p) => `${p.name}=${p.version}`)], { cwd: debs });
    // apt-get download names files with a %3a-escaped epoch; give them their pool names.
    for (const file of await fs.readdir(debs)) {
      if (!file.endsWith('.deb')) continue;
      const fields = (await run('dpkg-deb', ['-f', file, 'Package', 'Version', 'Architecture'], { cwd: debs })).stdout;
      const get = (k: string) => new RegExp(`^${k}: (\\S+)`, 'm').exec(fields)?.[1] ?? '';
      const name = debFileName({ name: get('Package'), version: get('Version'), arch: get('Architecture') });
      if (name !== file) await fs.rename(path.join(debs, file), path.join(debs, name));
    }
    const names = packages.map(debFileName).sort();
    const have = (await fs.readdir(debs)).filter((f) => f.endsWith('.deb')).sort();
    if (JSON.stringify(have) !== JSON.stringify(names)) {
      throw new Error(`apt-get download gave ${have.join(' ')}; expected ${names.join(' ')}`);
    }
    await tarInto(debs, out, names, true);

    const tmpRepo = `${repoDir}.tmp`;
    await fs.rm(tmpRepo, { recursive: true, force: true });
    await fs.mkdir(tmpRepo, { recursive: true });
    for (const name of names) await fs.copyFile(path.join(debs, name), path.join(tmpRepo, name));
    await sh('cd "$1" && dpkg-scanpackages --multiversion . /dev/null > Packages 2>/dev/null && gzip -n -9 -k Packages', [tmpRepo]);
    await fs.writeFile(path.join(tmpRepo, 'Release'), await releaseFile(tmpRepo));
    await fs.writeFile(path.join(tmpRepo, 'Release.inputs'), inputs);
    await fs.rm(repoDir, { recursive: true, force: true });
    await fs.rename(tmpRepo, repoDir);
    await fs.writeFile(`${out}.inputs`, inputs);
    return { bundle: out, repoDir, packages };
  });
}

// ---------------------------------------------------------------------------------------------
// CNI plugins and cri-tools

/**
 * The containernetworking-plugins release tarball (cni-plugins-linux-amd64-vX.Y.Z.tgz): plugin
 * binaries at the top level as "./bridge", "./loopback", ... (as upstream's), mode 0755, from
 * Debian's containernetworking-plugins (/usr/lib/cni). The version is the Debian package's.
 */
export async function buildCniPlugins(): Promise<{ path: string; version: string }> {
  return withLock(lockFor('cni-plugins'), async () => {
    const debianVersion = await debVersion('containernetworking-plugins');
    const version = `v${upstreamVersion(debianVersion)}`;
    const out = path.join(ARTIFACTS, `cni-plugins-linux-amd64-${version}.tgz`);
    const inputs = `containernetworking-plugins=${debianVersion} layout=1\n`;
    if (await upToDate(out, inputs)) return { path: out, version };
    await fs.mkdir(ARTIFACTS, { recursive: true });
    const unpacked = path.join(WORK, 'containernetworking-plugins');
    await unpackDeb('containernetworking-plugins', unpacked);
    const stage = path.join(WORK, 'cni-plugins');
    await fs.rm(stage, { recursive: true, force: true });
    await fs.mkdir(stage, { recursive: true });
    const from = path.join(unpacked, 'root/usr/lib/cni');
    for (const entry of await fs.readdir(from, { withFileTypes: true })) {
      if (!entry.isFile()) continue;
      await fs.copyFile(path.join(from, entry.name), path.join(stage, entry.name));
      await fs.chmod(path.join(stage, entry.name), 0o755);
    }
    for (const required of ['bridge', 'loopback', 'host-local', 'portmap']) {
      if (!(await pathExists(path.join(stage, required)))) throw new Error(`Debian's containernetworking-plugins has no ${required}`);
    }
    await fs.chmod(stage, 0o755);
    await tarInto(stage, out, ['.'], true);
    await fs.writeFile(`${out}.inputs`, inputs);
    return { path: out, version };
  });
}

/**
 * A cri-tools release tarball (crictl-v1.30.0-linux-amd64.tar.gz): one file, `crictl`, mode
 * 0755, at the top level. crictl is the STAND-IN script from test/hosts/standins (read at call
 * time; `source` overrides it, for tests).
 */
export async function buildCriTools(opts: { version?: string; source?: string } = {}): Promise<string> {
  const version = opts.version ?? CRI_TOOLS_VERSION;
  const source = opts.source ?? path.join(standinsDir(), 'crictl');
  return withLock(lockFor('cri-tools'), async () => {
    const text = await fs.readFile(source).catch((err: NodeJS.ErrnoException) => {
      throw new Error(`the crictl stand-in ${source} is not there (${err.code ?? err.message})`);
    });
    // A crictl other than the stand-in gets its own folder: the shared tarball is never swapped.
    const dir = opts.source ? path.join(ARTIFACTS, `cri-tools-${sha256(text).slice(0, 12)}`) : ARTIFACTS;
    const out = path.join(dir, `crictl-${version}-linux-amd64.tar.gz`);
    const inputs = `crictl=${sha256(text)} layout=1\n`;
    if (await upToDate(out, inputs)) return out;
    await fs.mkdir(dir, { recursive: true });
    const stage = path.join(WORK, 'cri-tools');
    await fs.rm(stage, { recursive: true, force: true });
    await fs.mkdir(stage, { recursive: true });
    await fs.writeFile(path.join(stage, 'crictl'), text, { mode: 0o755 });
    await fs.chmod(path.join(stage, 'crictl'), 0o755);
    await tarInto(stage, out, ['crictl'], true);
    await fs.writeFile(`${out}.inputs`, inputs);
    return out;
  });
}

// ---------------------------------------------------------------------------------------------
// Images

/**
 * One docker-archive tar (what `docker save` of several images writes) whose manifest.json
 * lists every image `kubeadm config images list` names for that version, the busybox test
 * image and extraRefs (a network add-on's), all as RepoTags of ONE image: one config, one
 * busybox layer (~1 MB). `ctr -n k8s.io images import` creates every ref.
 */
export async function buildKubeadmImageArchive(
  kubernetesVersion: string,
  extraRefs: string[] = [],
): Promise<{ path: string; refs: string[] }> {
  const version = parseVersion(kubernetesVersion);
  if (!version) throw new Error(`not a Kubernetes version: ${kubernetesVersion}`);
  const refs = [...new Set([...kubeadmImages(version), BUSYBOX_REF, ...extraRefs])];
  return withLock(lockFor('images'), async () => {
    const busyboxVersion = await debVersion('busybox-static');
    const out = path.join(ARTIFACTS, `images-kubeadm-v${version.text}-${sha256(refs.join('\n')).slice(0, 8)}.tar`);
    const inputs = `busybox-static=${busyboxVersion}\n${refs.join('\n')}\nlayout=2\n`;
    if (await upToDate(out, inputs)) return { path: out, refs };
    await fs.mkdir(ARTIFACTS, { recursive: true });
    await writeBusyboxArchive(WORK, out, refs, 'kubeforge test harness: busybox-static from Debian, standing in for every image kubeadm needs');
    await fs.writeFile(`${out}.inputs`, inputs);
    return { path: out, refs };
  });
}

// ---------------------------------------------------------------------------------------------
// Network add-on

export interface FlannelOptions {
  /** Flannel's net-conf.json Network; must equal the cluster's podSubnet. Default 10.244.0.0/16. */
  podCidr?: string;
  images?: { flannel?: string; cniPlugin?: string };
}

/** The images a Flannel manifest of these options runs (containers and initContainers). */
export function flannelImages(opts: FlannelOptions = {}): string[] {
  return [opts.images?.cniPlugin ?? FLANNEL_IMAGES.cniPlugin, opts.images?.flannel ?? FLANNEL_IMAGES.flannel];
}

/**
 * A network add-on manifest in the shape of upstream flannel-io/flannel's
 * Documentation/kube-flannel.yml: Namespace, ServiceAccount, ClusterRole/Binding, ConfigMap
 * kube-flannel-cfg (cni-conf.json, net-conf.json) and DaemonSet kube-flannel-ds.
 */
export function flannelManifest(opts: FlannelOptions = {}): string {
  const podCidr = opts.podCidr ?? DEFAULT_POD_CIDR;
  const [cniPluginImage, flannelImage] = flannelImages(opts);
  const labels = { tier: 'node', 'k8s-app': 'flannel' };
  const ns = 'kube-flannel';
  const cniConf = {
    name: 'cbr0',
    cniVersion: '0.3.1',
    plugins: [
      { type: 'flannel', delegate: { hairpinMode: true, isDefaultGateway: true } },
      { type: 'portmap', capabilities: { portMappings: true } },
    ],
  };
  const netConf = { Network: podCidr, Backend: { Type: 'vxlan' } };
  const docs: Record<string, unknown>[] = [
    {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: ns, labels: { 'k8s-app': 'flannel', 'pod-security.kubernetes.io/enforce': 'privileged' } },
    },
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'flannel', namespace: ns, labels: { 'k8s-app': 'flannel' } } },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: 'flannel', labels: { 'k8s-app': 'flannel' } },
      rules: [
        { apiGroups: [''], resources: ['pods'], verbs: ['get'] },
        { apiGroups: [''], resources: ['nodes'], verbs: ['get', 'list', 'watch'] },
        { apiGroups: [''], resources: ['nodes/status'], verbs: ['patch'] },
      ],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: 'flannel', labels: { 'k8s-app': 'flannel' } },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'flannel' },
      subjects: [{ kind: 'ServiceAccount', name: 'flannel', namespace: ns }],
    },
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'kube-flannel-cfg', namespace: ns, labels: { ...labels, app: 'flannel' } },
      data: {
        'cni-conf.json': `${JSON.stringify(cniConf, null, 2)}\n`,
        'net-conf.json': `${JSON.stringify(netConf, null, 2)}\n`,
      },
    },
    {
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: { name: 'kube-flannel-ds', namespace: ns, labels: { ...labels, app: 'flannel' } },
      spec: {
        selector: { matchLabels: { app: 'flannel' } },
        template: {
          metadata: { labels: { ...labels, app: 'flannel' } },
          spec: {
            affinity: {
              nodeAffinity: {
                requiredDuringSchedulingIgnoredDuringExecution: {
                  nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/os', operator: 'In', values: ['linux'] }] }],
                },
              },
            },
            hostNetwork: true,
            priorityClassName: 'system-node-critical',
            tolerations: [{ operator: 'Exists', effect: 'NoSchedule' }],
            serviceAccountName: 'flannel',
            initContainers: [
              {
                name: 'install-cni-plugin',
                image: cniPluginImage,
                command: ['cp'],
                args: ['-f', '/flannel', '/opt/cni/bin/flannel'],
                volumeMounts: [{ name: 'cni-plugin', mountPath: '/opt/cni/bin' }],
              },
              {
                name: 'install-cni',
                image: flannelImage,
                command: ['cp'],
                args: ['-f', '/etc/kube-flannel/cni-conf.json', '/etc/cni/net.d/10-flannel.conflist'],
                volumeMounts: [
                  { name: 'cni', mountPath: '/etc/cni/net.d' },
                  { name: 'flannel-cfg', mountPath: '/etc/kube-flannel/' },
                ],
              },
            ],
            containers: [
              {
                name: 'kube-flannel',
                image: flannelImage,
                command: ['/opt/bin/flanneld'],
                args: ['--ip-masq', '--kube-subnet-mgr'],
                resources: { requests: { cpu: '100m', memory: '50Mi' } },
                securityContext: { privileged: false, capabilities: { add: ['NET_ADMIN', 'NET_RAW'] } },
                env: [
                  { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
                  { name: 'POD_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
                  { name: 'EVENT_QUEUE_DEPTH', value: '5000' },
                ],
                volumeMounts: [
                  { name: 'run', mountPath: '/run/flannel' },
                  { name: 'flannel-cfg', mountPath: '/etc/kube-flannel/' },
                  { name: 'xtables-lock', mountPath: '/run/xtables.lock' },
                ],
              },
            ],
            volumes: [
              { name: 'run', hostPath: { path: '/run/flannel' } },
              { name: 'cni-plugin', hostPath: { path: '/opt/cni/bin' } },
              { name: 'cni', hostPath: { path: '/etc/cni/net.d' } },
              { name: 'flannel-cfg', configMap: { name: 'kube-flannel-cfg' } },
              { name: 'xtables-lock', hostPath: { path: '/run/xtables.lock', type: 'FileOrCreate' } },
            ],
          },
        },
      },
    },
  ];
  const header = '# A Flannel-shaped network add-on written by kubeforge\'s test harness (shape of\n# flannel-io/flannel Documentation/kube-flannel.yml). Nothing runs it on the test hosts.\n';
  return header + docs.map((d) => `---\n${stringify(d, { lineWidth: 0 })}`).join('');
}

/** Writes DIR/kube-flannel.yml (atomically; unchanged content is not rewritten); returns its path. */
export async function writeFlannelManifest(dir: string, opts: FlannelOptions = {}): Promise<string> {
  await fs.mkdir(dir, { recursive: true });
  const file = path.join(dir, 'kube-flannel.yml');
  const text = flannelManifest(opts);
  if ((await fs.readFile(file, 'utf8').catch(() => '')) === text) return file;
  await fs.writeFile(`${file}.${process.pid}.tmp`, text);
  await fs.rename(`${file}.${process.pid}.tmp`, file);
  return file;
}

// ---------------------------------------------------------------------------------------------

/** Every node-prerequisite artifact for one Kubernetes version (each cached; ~1 min the first time). */
export async function buildNodeArtifacts(kubernetesVersion = '1.30.2'): Promise<NodeArtifacts> {
  const os = await buildOsPackages();
  const cni = await buildCniPlugins();
  const criTools = await buildCriTools();
  const images = flannelImages();
  const archive = await buildKubeadmImageArchive(kubernetesVersion, images);
  const manifest = await withLock(lockFor('flannel'), () => writeFlannelManifest(ARTIFACTS));
  return {
    osPackagesBundle: os.bundle,
    aptRepoDir: os.repoDir,
    osPackages: os.packages.map((p) => `${p.name}=${p.version}`),
    cniPlugins: cni.path,
    cniPluginsVersion: cni.version,
    criTools,
    kubeadmImageArchive: archive.path,
    kubeadmImageRefs: archive.refs,
    flannelManifest: manifest,
    flannelImages: images,
  };
}
