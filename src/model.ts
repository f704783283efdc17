// The resolved cluster: what the inventory means once it is loaded, validated and defaulted.
// Every later stage (planner, renderers, runner, cluster choreography) reads only these types,
// never the raw YAML, so they can be built and tested without touching a file or a host.

export type Role = 'control-plane' | 'worker';

/** A semantic version split into numbers, e.g. 1.30.2 → {major:1, minor:30, patch:2}. */
export interface Version {
  major: number;
  minor: number;
  patch: number;
  /** As written, without a leading "v": "1.30.2". */
  text: string;
}

/** How to reach and authenticate to one host. Secrets stay in memory only. */
export interface SshSettings {
  user: string;
  port: number;
  /** Absolute path of a private key file on the laptop, if key auth is used. */
  keyFile?: string;
  /** Passphrase for keyFile (from the environment variable the inventory names), never logged. */
  passphrase?: string;
  /** Use the ssh-agent at this socket (normally $SSH_AUTH_SOCK). */
  agentSocket?: string;
  /** Password auth (from the environment variable the inventory names), never logged. */
  password?: string;
  /** Password for sudo when user is not root and sudo asks for one; never logged. */
  sudoPassword?: string;
  /** Absolute path of the known_hosts file host keys are checked against. */
  knownHostsFile: string;
  /** Accept and record keys of hosts not yet in known_hosts (trust on first use). */
  acceptNewHostKeys: boolean;
  connectTimeoutMs: number;
  keepaliveIntervalMs: number;
  /** Bastions to tunnel through, the first dialled from here (ProxyJump); absent: connect directly. */
  proxyJump?: JumpHost[];
}

/** One bastion of a ProxyJump chain, with the settings it is reached and authenticated with. */
export interface JumpHost {
  /** user@host:port as written (before HostName): how messages name the bastion. */
  label: string;
  /** Address to dial, or to ask the previous hop to connect to (HostName when the ssh config gives one). */
  address: string;
  /** Its own login, keys, known_hosts and timeouts; never a proxyJump of its own. */
  ssh: Omit<SshSettings, 'proxyJump'>;
}

/** Where one effective SSH setting of a host came from, e.g. "inventory hosts[0].ssh.user", "ssh config /home/me/.ssh/config:12", "default". */
export interface SettingSource {
  value: string;
  from: string;
}

export interface Host {
  name: string;
  /** IPv4, IPv6 or DNS name. */
  address: string;
  role: Role;
  ssh: SshSettings;
  /** Extra node labels passed to kubeadm (nodeRegistration.kubeletExtraArgs node-labels). */
  labels: Record<string, string>;
  /** Address the kubelet / API server advertises; defaults to `address`. */
  internalAddress: string;
  /** Where each SSH setting (address, user, port, keyFile, proxyJump, …) came from, for `up -v` and --json. */
  sshSources?: Record<string, SettingSource>;
}

/** A file on the laptop that is uploaded to hosts, identified by its content hash. */
export interface Bundle {
  /** Short name used in playbooks and progress lines: "containerd", "kubernetes", "image:…" */
  name: string;
  /** Absolute path on the laptop (after a URL was fetched into the cache, the cached file). */
  path: string;
  sha256: string;
  size: number;
  /** Image archives only: the image references inside (from manifest.json or index.json). */
  imageRefs?: string[];
}

export interface ContainerdSettings {
  version: Version;
  bundle: Bundle;
  /** containerd's grpc socket; crictl.yaml and kubeadm's criSocket must point at it. */
  socket: string;
  /** Sandbox (pause) image; default: the one kubeadm of kubernetes.version expects (pause:3.9 up to 1.30). */
  sandboxImage: string;
  /** Registry host → mirror endpoints, written as certs.d/<registry>/hosts.toml. */
  registryMirrors: Record<string, string[]>;
  /** Directory containerd reads hosts.toml files from (config_path). */
  registryConfigPath: string;
}

export interface KubernetesSettings {
  version: Version;
  /** Optional tarball with bin/kubeadm, bin/kubelet (and kubectl) for hosts without packages. */
  bundle?: Bundle;
  /** host:port of the API server as nodes reach it; defaults to the init host's address:6443 (the VIP's with controlPlaneVip). */
  controlPlaneEndpoint: string;
  /** The built-in virtual IP kube-vip holds on the control planes (controlPlaneEndpoint is then VIP:6443). */
  controlPlaneVip?: ControlPlaneVip;
  podSubnet: string;
  serviceSubnet: string;
  clusterDomain: string;
  /** Offline image archives imported into containerd's k8s.io namespace on every host. */
  images: Bundle[];
  /**
   * The archives are the only source of images (no registry reachable): before anything
   * changes, they must hold every image kubeadm, the sandbox and the network add-on need.
   * Default: true when `images` is given.
   */
  offline: boolean;
  /** cri-tools release tarball (a `crictl` binary at its top level), when crictl is wanted from it. */
  criTools?: Bundle;
  /** containernetworking-plugins release tarball (bridge, loopback, ... at its top level) → /opt/cni/bin. */
  cniPlugins?: Bundle;
}

/** kube-vip in ARP mode, as a static Pod on every control plane: one of them holds the address. */
export interface ControlPlaneVip {
  /** The virtual IPv4 address; in the control planes' subnet, no host's own address. */
  address: string;
  /** The interface on every control plane the address is added to (and announced on by ARP). */
  interface: string;
  /** The kube-vip image the static Pod runs. */
  image: string;
}

/** The network add-on (Flannel, Calico, ...) applied once with kubectl after kubeadm init. */
export interface NetworkAddon {
  /** The manifest (multi-document YAML), a local file or a download pinned by sha256. */
  manifest: Bundle;
  /** Images the manifest's workloads run (containers and initContainers). */
  images: string[];
  /** Pod CIDRs the manifest configures (Flannel net-conf.json Network, CALICO_IPV4POOL_CIDR). */
  podCidrs: string[];
}

/** Operating-system packages kubeadm and the kubelet need (iptables, conntrack, socat, ...). */
export interface OsPackagesSettings {
  /**
   * Offline: a tarball of .deb files (with their dependencies) installed with the host's
   * package tools. Without it, missing packages come from the host's package manager.
   */
  bundle?: Bundle;
}

export interface Cluster {
  name: string;
  /** Absolute path of the inventory file; the ledger lives beside it in .kubeforge/. */
  inventoryPath: string;
  containerd: ContainerdSettings;
  kubernetes: KubernetesSettings;
  /** Undefined: no add-on; nodes stay NotReady until the operator applies one (warned). */
  network?: NetworkAddon;
  osPackages: OsPackagesSettings;
  /** Hosts relay bundles to each other (the laptop sends about one copy of each). */
  relay: { enabled: boolean };
  /** In inventory order; hosts[0] of role control-plane is the init host. */
  hosts: Host[];
}

export function initHost(cluster: Cluster): Host {
  const host = cluster.hosts.find((h) => h.role === 'control-plane');
  if (!host) throw new Error('cluster has no control-plane host (the inventory loader must reject this)');
  return host;
}

export function parseVersion(text: string): Version | undefined {
  const m = /^v?(\d+)\.(\d+)(?:\.(\d+))?$/.exec(text.trim());
  if (!m) return undefined;
  const [major, minor, patch] = [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)];
  return { major, minor, patch, text: `${major}.${minor}.${patch}` };
}

export function compareVersions(a: Version, b: Version): number {
  return a.major - b.major || a.minor - b.minor || a.patch - b.patch;
}
