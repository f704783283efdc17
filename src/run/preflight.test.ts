import { describe, expect, it } from 'vitest';
import { parseVersion, type Cluster } from '../model.js';
import { testCluster, testHost } from '../render/fixtures.js';
import { parseFacts, type HostFacts } from './facts.js';
import { kubeadmBinaryChecks, preflight, type BundleContents } from './preflight.js';

/** A healthy minimal Debian 12 host as the gather script reports it (no iptables & co yet). */
const MINIMAL_DEBIAN = `os_id=debian
os_like=
os_version=12
arch=x86_64
hostname=cp1
cpus=2
mem_kb=4026532
cgroup_fs=cgroup2fs
kernel_release=6.1.0-28-amd64
kernel_config=/boot/config-6.1.0-28-amd64
bin_ip=/usr/sbin/ip
bin_mount=/usr/bin/mount
bin_nsenter=/usr/bin/nsenter
bin_tc=/usr/sbin/tc
bin_touch=/usr/bin/touch
bin_apt-get=/usr/bin/apt-get
bin_dpkg=/usr/bin/dpkg
listen_hex=0016 0035
swap=0
`;

const WITH_BUNDLES: BundleContents = { crictl: true, kubectl: true };

function facts(extra = '', base = MINIMAL_DEBIAN): HostFacts {
  return parseFacts(base + extra);
}

function withVersion(cluster: Cluster, text: string): Cluster {
  return { ...cluster, kubernetes: { ...cluster.kubernetes, version: parseVersion(text)! } };
}

describe('host facts', () => {
  it('parses the gather script output: CPUs, memory in MiB, binaries, listening ports', () => {
    const f = facts();
    expect(f.cpus).toBe(2);
    expect(f.memoryMiB).toBe(3932);
    expect(f.binaries.ip).toBe('/usr/sbin/ip');
    expect(f.binaries.iptables).toBeUndefined();
    expect([...f.listeningPorts].sort((a, b) => a - b)).toEqual([22, 53]);
    expect(f.memberOf).toBeUndefined();
  });
});

describe('kubeforge preflight (what real kubeadm would refuse, decided before any change)', () => {
  const cluster: Cluster = {
    ...testCluster(),
    kubernetes: { ...testCluster().kubernetes, bundle: { name: 'kubernetes', path: '/tmp/k.tar.gz', sha256: '1'.repeat(64), size: 1 } },
  };
  const cp = testHost(cluster, 'cp1');
  const worker = testHost(cluster, 'w1');

  it('a minimal Debian host with apt has no error: the missing packages are installed', () => {
    const r = preflight(cluster, cp, facts(), WITH_BUNDLES);
    expect(r.errors).toEqual([]);
    expect(r.warnings).toEqual([]);
    expect(r.willInstall.sort()).toEqual(['conntrack', 'ebtables', 'ethtool', 'iptables', 'socat']);
  });

  it('follows kubeadm per version: conntrack an error up to 1.31 and gone from 1.32, crictl an error up to 1.30, a warning in 1.31, gone from 1.32', () => {
    const names = (minor: number, error: boolean) => kubeadmBinaryChecks(minor).filter((c) => c.error === error).map((c) => c.binary).sort();
    expect(names(30, true)).toEqual(['conntrack', 'crictl', 'ip', 'iptables', 'mount', 'nsenter']);
    expect(names(31, true)).toEqual(['conntrack', 'ip', 'iptables', 'mount', 'nsenter']);
    expect(names(32, true)).toEqual(['ip', 'iptables', 'mount', 'nsenter']);
    expect(names(31, false)).toEqual(['crictl', 'ebtables', 'ethtool', 'socat', 'tc', 'touch']);
    expect(names(32, false)).toEqual(['ebtables', 'ethtool', 'socat', 'tc', 'touch']);
  });

  it('refuses a missing crictl at 1.30 without a bundle that carries it, and only warns at 1.31', () => {
    const noCrictl = { crictl: false, kubectl: true };
    const at130 = preflight(withVersion(cluster, '1.30.2'), cp, facts(), noCrictl);
    expect(at130.errors.map((e) => e.check)).toEqual(['FileExisting-crictl']);
    expect(at130.errors[0]!.fix).toContain('kubernetes.criTools');
    const at131 = preflight(withVersion(cluster, '1.31.0'), cp, facts(), noCrictl);
    expect(at131.errors).toEqual([]);
    expect(at131.warnings.map((w) => w.check)).toContain('FileExisting-crictl');
  });

  it('names the binaries and the packages when the host has no apt (dnf)', () => {
    const rpm = MINIMAL_DEBIAN.replace('bin_apt-get=/usr/bin/apt-get\nbin_dpkg=/usr/bin/dpkg\n', 'bin_dnf=/usr/bin/dnf\n').replace('os_id=debian', 'os_id=rocky');
    const r = preflight(cluster, worker, facts('', rpm), WITH_BUNDLES);
    expect(r.errors).toHaveLength(1);
    expect(r.errors[0]!.message).toBe('iptables, conntrack not found in system path, and kubeforge installs packages with apt only (Debian, Ubuntu); this host uses dnf');
    expect(r.errors[0]!.fix).toBe('on the host: dnf install -y iptables-nft conntrack-tools iptables-ebtables ethtool socat');
    expect(r.warnings[0]!.message).toContain('ebtables, ethtool, socat');
    expect(r.willInstall).toEqual([]);
  });

  it('refuses a control plane with 1 CPU or less than 1700 MB, and not a worker', () => {
    const small = parseFacts(MINIMAL_DEBIAN.replace('cpus=2', 'cpus=1').replace('mem_kb=4026532', 'mem_kb=1024000'));
    expect(preflight(cluster, cp, small, WITH_BUNDLES).errors.map((e) => [e.check, e.message])).toEqual([
      ['NumCPU', 'the number of available CPUs 1 is less than the required 2'],
      ['Mem', 'the system RAM (1000 MB) is less than the minimum 1700 MB'],
    ]);
    expect(preflight(cluster, worker, small, WITH_BUNDLES).errors).toEqual([]);
  });

  it('refuses ports in use where kubeadm will run, and not on a host that already joined', () => {
    const busy = parseFacts(MINIMAL_DEBIAN.replace('listen_hex=0016 0035', 'listen_hex=0016 192B 280A'));
    expect(preflight(cluster, cp, busy, WITH_BUNDLES).errors.map((e) => e.check)).toEqual(['Port-6443', 'Port-10250']);
    expect(preflight(cluster, worker, busy, WITH_BUNDLES).errors.map((e) => e.check)).toEqual(['Port-10250']);
    const member = parseFacts(MINIMAL_DEBIAN.replace('listen_hex=0016 0035', 'listen_hex=0016 192B 280A') + `member_of=https://${cluster.kubernetes.controlPlaneEndpoint}\n`);
    expect(preflight(cluster, cp, member, WITH_BUNDLES).errors).toEqual([]);
  });

  it('refuses a host that belongs to another cluster', () => {
    const other = facts('member_of=https://192.0.2.10:6443\n');
    const r = preflight(cluster, worker, other, WITH_BUNDLES);
    expect(r.errors.map((e) => e.check)).toEqual(['ExistingCluster']);
    expect(r.errors[0]!.message).toContain('https://192.0.2.10:6443');
  });

  it('refuses an unreadable kernel config, and cgroup v1 from 1.35 (a warning from 1.31)', () => {
    const noConfig = parseFacts(MINIMAL_DEBIAN.replace('kernel_config=/boot/config-6.1.0-28-amd64', 'kernel_config='));
    expect(preflight(cluster, worker, noConfig, WITH_BUNDLES).errors.map((e) => e.check)).toEqual(['SystemVerification']);
    const v1 = parseFacts(MINIMAL_DEBIAN.replace('cgroup_fs=cgroup2fs', 'cgroup_fs=tmpfs'));
    expect(preflight(withVersion(cluster, '1.30.2'), worker, v1, WITH_BUNDLES).warnings).toEqual([]);
    expect(preflight(withVersion(cluster, '1.31.0'), worker, v1, WITH_BUNDLES).warnings.map((w) => w.check)).toEqual(['SystemVerification']);
    expect(preflight(withVersion(cluster, '1.35.0'), worker, v1, WITH_BUNDLES).errors.map((e) => e.check)).toEqual(['SystemVerification']);
  });

  it('without a Kubernetes bundle, wants kubeadm and kubelet on every host and kubectl on the init host', () => {
    const noBundle = { ...cluster, kubernetes: { ...cluster.kubernetes } };
    delete noBundle.kubernetes.bundle;
    const withAddon: Cluster = { ...noBundle, network: { manifest: { name: 'network-manifest', path: '/tmp/f.yml', sha256: '2'.repeat(64), size: 1 }, images: [], podCidrs: [] } };
    const r = preflight(withAddon, cp, facts(), { crictl: true, kubectl: false });
    expect(r.errors.map((e) => e.message)).toEqual([
      'kubeadm and kubelet not installed, and the inventory gives no kubernetes.bundle',
      expect.stringContaining('kubectl not installed on the init host'),
    ]);
    const installed = facts('bin_kubeadm=/usr/bin/kubeadm\nbin_kubelet=/usr/bin/kubelet\nbin_kubectl=/usr/bin/kubectl\n');
    expect(preflight(withAddon, cp, installed, { crictl: true, kubectl: false }).errors).toEqual([]);
    // Without an add-on to apply, kubectl is not needed.
    expect(preflight(noBundle, cp, facts(), { crictl: true, kubectl: false }).errors.map((e) => e.check)).toEqual(['Kubernetes']);
  });
});
