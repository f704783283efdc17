// kubeforge's own preflight: from the facts of one host, every problem the real kubeadm (and
// kubelet) of the inventory's version would raise later, decided before anything changes, each
// with its fix. Pure: facts in, problems out. The checks follow upstream kubeadm's
// cmd/kubeadm/app/preflight/checks.go and checks_linux.go (see README "Preflight").
import { initHost, type Cluster, type Host } from '../model.js';
import { packagesFor } from '../playbook/os-packages.js';
import { packageFamily, type HostFacts, type ProbedBinary } from './facts.js';

export interface PreflightProblem {
  /** kubeadm's name for the check where there is one, e.g. "FileExisting-iptables", "NumCPU". */
  check: string;
  message: string;
  fix: string;
}

export interface PreflightResult {
  errors: PreflightProblem[];
  warnings: PreflightProblem[];
  /** Binaries kubeforge will install from OS packages on this host (prepare/os-packages). */
  willInstall: string[];
}

/** What the bundles on the laptop provide, looked up once per run. */
export interface BundleContents {
  /** The containerd bundle or the cri-tools bundle carries crictl. */
  crictl: boolean;
  /** The Kubernetes bundle carries kubectl. */
  kubectl: boolean;
}

/** Binaries kubeadm's InPathChecks look for, and whether a missing one is an ERROR, by version. */
export function kubeadmBinaryChecks(minor: number): Array<{ binary: ProbedBinary; error: boolean }> {
  return [
    // crictl: an ERROR up to 1.30, a WARNING in 1.31 (kubernetes#124685), not checked from 1.32 (#126596).
    ...(minor <= 31 ? [{ binary: 'crictl' as const, error: minor <= 30 }] : []),
    { binary: 'ip', error: true },
    { binary: 'iptables', error: true },
    { binary: 'mount', error: true },
    { binary: 'nsenter', error: true },
    ...(minor <= 31 ? [{ binary: 'conntrack' as const, error: true }] : []), // dropped in 1.32
    { binary: 'ebtables', error: false },
    { binary: 'ethtool', error: false },
    { binary: 'socat', error: false },
    { binary: 'tc', error: false },
    { binary: 'touch', error: false },
  ];
}

const MIN_CPUS = 2; // kubeadm constants.ControlPlaneNumCPU
const MIN_MEMORY_MB = 1700; // kubeadm constants.ControlPlaneMem

export function preflight(cluster: Cluster, host: Host, facts: HostFacts, bundles: BundleContents): PreflightResult {
  const errors: PreflightProblem[] = [];
  const warnings: PreflightProblem[] = [];
  const { minor } = cluster.kubernetes.version;
  const controlPlane = host.role === 'control-plane';
  const member = facts.memberOf !== undefined;
  const family = packageFamily(facts);

  // Binaries: what kubeforge installs, and what it cannot.
  const missing = (b: ProbedBinary) => !facts.binaries[b];
  const willInstall: string[] = [];
  const cannot: Array<{ binary: ProbedBinary; error: boolean }> = [];
  for (const { binary, error } of kubeadmBinaryChecks(minor)) {
    if (!missing(binary)) continue;
    if (binary === 'crictl') {
      if (bundles.crictl) continue;
      (error ? errors : warnings).push({
        check: 'FileExisting-crictl',
        message: `crictl not found in system path, and no bundle carries it${error ? ` (kubeadm 1.${minor} requires it)` : ' (kubeadm warns)'}`,
        fix: 'give kubernetes.criTools (a cri-tools release tarball, crictl-vX.Y.Z-linux-amd64.tar.gz) in the inventory',
      });
      continue;
    }
    if (family === 'apt') willInstall.push(binary);
    else cannot.push({ binary, error });
  }
  // conntrack is no longer a preflight check from 1.32, but kube-proxy still needs it.
  if (minor > 31 && missing('conntrack')) {
    if (family === 'apt') willInstall.push('conntrack');
    else cannot.push({ binary: 'conntrack', error: false });
  }
  if (cannot.length > 0) {
    const names = cannot.map((c) => c.binary);
    const how =
      family === 'none'
        ? 'this host has no package manager kubeforge knows (apt-get, dnf, yum, zypper)'
        : `kubeforge installs packages with apt only (Debian, Ubuntu); this host uses ${family}`;
    const install = family === 'none' ? `install ${names.join(', ')}` : `${family} install -y ${packagesFor(family, names).join(' ')}`;
    const list = (error: boolean) => cannot.filter((c) => c.error === error).map((c) => c.binary);
    if (list(true).length) {
      errors.push({ check: 'FileExisting', message: `${list(true).join(', ')} not found in system path, and ${how}`, fix: `on the host: ${install}` });
    }
    if (list(false).length) {
      warnings.push({ check: 'FileExisting', message: `${list(false).join(', ')} not found in system path (kubeadm warns), and ${how}`, fix: `on the host: ${install}` });
    }
  }

  // kubeadm, kubelet (and kubectl on the init host) when no Kubernetes bundle brings them.
  if (!cluster.kubernetes.bundle) {
    const absent = (['kubeadm', 'kubelet'] as const).filter(missing);
    if (absent.length) {
      errors.push({
        check: 'Kubernetes',
        message: `${absent.join(' and ')} not installed, and the inventory gives no kubernetes.bundle`,
        fix: `install kubeadm, kubelet and kubectl ${cluster.kubernetes.version.text} from the Kubernetes package repository (pkgs.k8s.io), or give kubernetes.bundle`,
      });
    }
  }
  // kubectl applies the network add-on and reads the nodes' readiness.
  if (cluster.network && host.name === initHost(cluster).name && missing('kubectl') && !bundles.kubectl) {
    errors.push({
      check: 'Kubernetes',
      message: 'kubectl not installed on the init host, and no Kubernetes bundle carries it (kubeforge applies the network add-on and waits for Ready nodes with it)',
      fix: 'install kubectl on the init host, or give a kubernetes.bundle with bin/kubectl',
    });
  }

  // Control-plane resources (kubeadm NumCPU, Mem).
  if (controlPlane) {
    if (facts.cpus < MIN_CPUS) {
      errors.push({ check: 'NumCPU', message: `the number of available CPUs ${facts.cpus} is less than the required ${MIN_CPUS}`, fix: 'give the control-plane host at least 2 CPUs' });
    }
    if (facts.memoryMiB < MIN_MEMORY_MB) {
      errors.push({ check: 'Mem', message: `the system RAM (${facts.memoryMiB} MB) is less than the minimum ${MIN_MEMORY_MB} MB`, fix: 'give the control-plane host at least 2 GB of memory' });
    }
  }

  // Ports (kubeadm Port-N) and leftovers of another installation, only where kubeadm will run.
  if (!member) {
    const ports = controlPlane ? [6443, 10259, 10257, 2379, 2380, 10250] : [10250];
    for (const port of ports) {
      if (facts.listeningPorts.has(port)) {
        errors.push({ check: `Port-${port}`, message: `Port ${port} is in use`, fix: `stop what listens on port ${port} (see \`ss -ltnp 'sport = :${port}'\` on the host)` });
      }
    }
    if (controlPlane && facts.etcdDataPresent) {
      errors.push({ check: 'DirAvailable--var-lib-etcd', message: '/var/lib/etcd is not empty', fix: 'remove the old etcd data (`kubeadm reset -f`, or empty /var/lib/etcd) if that cluster is gone' });
    }
  } else if (!sameEndpoint(facts.memberOf!, cluster.kubernetes.controlPlaneEndpoint)) {
    errors.push({
      check: 'ExistingCluster',
      message: `already a node of another cluster: its kubelet.conf points at ${facts.memberOf}, this inventory's control plane is https://${cluster.kubernetes.controlPlaneEndpoint}`,
      fix: 'if that cluster is gone, run `kubeadm reset -f` on the host; otherwise take the host out of this inventory',
    });
  }

  // SystemVerification: the kernel config, and the cgroup version per Kubernetes version.
  if (!facts.kernelConfig) {
    errors.push({
      check: 'SystemVerification',
      message: `the kernel config of ${facts.kernelRelease || 'the running kernel'} cannot be read (no /proc/config.gz, /boot/config-${facts.kernelRelease}, /lib/modules/${facts.kernelRelease}/config)`,
      fix: 'install the kernel package that ships /boot/config-<release> for the running kernel',
    });
  }
  const cgroupV2 = facts.cgroupFs === 'cgroup2fs';
  if (!cgroupV2 && minor >= 35) {
    errors.push({
      check: 'SystemVerification',
      message: 'the host runs cgroup v1; the kubelet of Kubernetes 1.35 refuses to start on cgroup v1 (failCgroupV1 defaults to true)',
      fix: 'boot the host with the unified cgroup hierarchy (systemd.unified_cgroup_hierarchy=1), or use Kubernetes 1.34 or earlier',
    });
  } else if (!cgroupV2 && minor >= 31) {
    warnings.push({
      check: 'SystemVerification',
      message: 'the host runs cgroup v1, which Kubernetes keeps in maintenance mode from 1.31 and refuses by default from 1.35',
      fix: 'move the host to cgroup v2 before upgrading to 1.35',
    });
  }

  if (facts.arch && facts.arch !== 'x86_64' && facts.arch !== 'aarch64') {
    warnings.push({ check: 'Arch', message: `the host's architecture is ${facts.arch}`, fix: 'make sure every bundle is built for it' });
  }
  return { errors, warnings, willInstall };
}

function sameEndpoint(server: string, endpoint: string): boolean {
  const strip = (s: string) => s.replace(/^https?:\/\//, '').replace(/\/+$/, '').toLowerCase();
  return strip(server) === strip(endpoint);
}
