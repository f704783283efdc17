// The inventory `kubeforge init` writes: a YAML document (yaml's Document API, so comments sit
// where a reader needs them) built from the answers. Pure: no files, no hosts.
import { isAbsolute, relative, sep } from 'node:path';
import { Document, isMap, isScalar, type Pair, type YAMLMap } from 'yaml';
import type { AuthAnswer, BundleAnswer, HostAnswer, InitAnswers } from './answers.js';

export interface DocumentOptions {
  /** What the editor schema line points at: a path relative to the inventory, or absolute. */
  schemaRef: string;
}

/**
 * The "$schema=" reference from the inventory's directory to the JSON Schema file: relative when
 * the schema sits in or below that directory, otherwise absolute (a "../../.." path breaks as
 * soon as the inventory moves).
 */
export function schemaReference(schemaFile: string, inventoryDir: string): string {
  const rel = relative(inventoryDir, schemaFile);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel) ? `.${sep}${rel}` : schemaFile;
}

const HEADER = [
  'A kubeforge inventory, written by `kubeforge init`. inventory.example.yaml in the kubeforge',
  'package documents every field; fields left out take the defaults it names.',
  "Relative paths start from this file's directory; ~ is your home directory.",
  'Secrets are never written here: only the NAMES of environment variables that hold them.',
];

export function inventoryDocument(answers: InitAnswers, options: DocumentOptions): Document {
  const doc = new Document(plainInventory(answers));
  doc.commentBefore = [` yaml-language-server: $schema=${options.schemaRef}`, '', ...HEADER.map((l) => ` ${l}`)].join('\n');

  const root = doc.contents as YAMLMap;
  for (const key of ['kubernetes', 'network', 'containerd', 'osPackages', 'relay', 'ssh', 'hosts']) {
    if (root.has(key)) pairIn(root, key).key.spaceBefore = true;
  }

  const cluster = mapAt(root, 'cluster');
  trailing(cluster, 'name', 'DNS-1123 label: lowercase letters, digits and "-"');

  const kubernetes = mapAt(root, 'kubernetes');
  if (answers.kubernetes.bundle) {
    before(kubernetes, 'bundle', 'Tarball with bin/kubeadm, bin/kubelet (and bin/kubectl), installed on every host.');
  } else {
    trailing(kubernetes, 'version', 'no bundle: kubeadm and the kubelet of this version must be installed on the hosts');
  }
  if (answers.kubernetes.images.length > 0) {
    before(kubernetes, 'images', "Image archives imported into containerd's k8s.io namespace on every host (offline installs).");
    // Written either way: left out, the default (true with archives) would demand that the
    // archives hold every image, which only the user knows to be right.
    before(
      kubernetes,
      'offline',
      'true when the hosts reach no registry: kubeforge then checks that the archives hold every image\nkubeadm, the sandbox image and the network add-on need.',
    );
  }
  if (answers.kubernetes.criTools) before(kubernetes, 'criTools', 'cri-tools release tarball (crictl at its top level) -> /usr/local/bin/crictl; kubeadm needs crictl.');
  if (answers.kubernetes.cniPlugins) before(kubernetes, 'cniPlugins', 'containernetworking-plugins release tarball (bridge, loopback, ...) -> /opt/cni/bin.');
  kubernetes.comment = [
    ' Defaults: podSubnet 10.244.0.0/16, serviceSubnet 10.96.0.0/12, clusterDomain cluster.local,',
    ' controlPlaneEndpoint <init host>:6443. With several control planes, set controlPlaneEndpoint to a',
    ' load balancer, or controlPlaneVip: {address, interface} for a built-in virtual IP (kube-vip).',
  ].join('\n');

  if (answers.network) {
    before(root, 'network', 'The network add-on, applied once with kubectl after kubeadm init.');
    before(
      mapAt(root, 'network'),
      'manifest',
      "The add-on's manifest as published (kube-flannel.yml, calico.yaml, ...); the pod CIDRs it\nconfigures must equal kubernetes.podSubnet.",
    );
  } else {
    before(root, 'containerd', 'No network add-on (network.manifest): nodes stay NotReady until you apply one yourself.');
  }

  const containerd = mapAt(root, 'containerd');
  trailing(containerd, 'bundle', 'the containerd release tarball');
  if (answers.containerd.version) trailing(containerd, 'version', "the bundle's file name does not tell it");

  if (answers.osPackages) {
    trailing(root, 'osPackages', 'packages kubeadm and the kubelet need (iptables, conntrack, socat, ...)', true);
    before(mapAt(root, 'osPackages'), 'bundle', 'A tarball of .deb files (with their dependencies) installed on every host that reaches no\npackage repository.');
  }

  trailing(root, 'relay', 'hosts pass bundles on to each other: this machine sends about one copy', true);
  trailing(mapAt(root, 'relay'), 'enabled', 'false: every host gets its copy from this machine');

  const ssh = mapAt(root, 'ssh');
  trailing(root, 'ssh', 'for every host; a host may override any of these under its own ssh:', true);
  commentAuth(ssh, answers.ssh.auth);
  if (answers.ssh.sudoPasswordEnv) trailing(ssh, 'sudoPasswordEnv', 'sudo asks for a password on some hosts');

  const hosts = root.get('hosts', true) as unknown as { items: YAMLMap[] };
  answers.hosts.forEach((host, i) => commentHost(hosts.items[i]!, host, i === answers.hosts.findIndex((h) => h.role === 'control-plane')));
  return doc;
}

export function renderInventory(answers: InitAnswers, options: DocumentOptions): string {
  return inventoryDocument(answers, options).toString({ lineWidth: 0 });
}

function plainInventory(answers: InitAnswers): Record<string, unknown> {
  const { kubernetes, containerd, ssh } = answers;
  return {
    cluster: { name: answers.clusterName },
    kubernetes: {
      version: kubernetes.version,
      ...(kubernetes.bundle ? { bundle: bundleValue(kubernetes.bundle) } : {}),
      ...(kubernetes.images.length > 0 ? { images: kubernetes.images.map(bundleValue), offline: kubernetes.offline ?? false } : {}),
      ...(kubernetes.criTools ? { criTools: bundleValue(kubernetes.criTools) } : {}),
      ...(kubernetes.cniPlugins ? { cniPlugins: bundleValue(kubernetes.cniPlugins) } : {}),
    },
    ...(answers.network ? { network: { manifest: bundleValue(answers.network.manifest) } } : {}),
    containerd: {
      bundle: bundleValue(containerd.bundle),
      ...(containerd.version ? { version: containerd.version } : {}),
    },
    ...(answers.osPackages ? { osPackages: { bundle: bundleValue(answers.osPackages.bundle) } } : {}),
    relay: { enabled: true },
    ssh: {
      user: ssh.user,
      port: ssh.port,
      ...authFields(ssh.auth),
      ...(ssh.knownHostsFile ? { knownHostsFile: ssh.knownHostsFile } : {}),
      ...(ssh.sudoPasswordEnv ? { sudoPasswordEnv: ssh.sudoPasswordEnv } : {}),
    },
    hosts: answers.hosts.map(hostValue),
  };
}

function bundleValue(bundle: BundleAnswer): unknown {
  return 'path' in bundle ? bundle.path : { url: bundle.url, sha256: bundle.sha256 };
}

function authFields(auth: AuthAnswer): Record<string, unknown> {
  switch (auth.kind) {
    case 'key':
      return { keyFile: auth.keyFile, ...(auth.passphraseEnv ? { passphraseEnv: auth.passphraseEnv } : {}), agent: false };
    case 'agent':
      return { agent: true };
    case 'password':
      return { agent: false, passwordEnv: auth.passwordEnv };
  }
}

function hostValue(host: HostAnswer): Record<string, unknown> {
  const overrides = { ...(host.user ? { user: host.user } : {}), ...(host.port ? { port: host.port } : {}) };
  return {
    name: host.name,
    address: host.address,
    role: host.role,
    ...(host.internalAddress ? { internalAddress: host.internalAddress } : {}),
    ...(Object.keys(overrides).length > 0 ? { ssh: overrides } : {}),
  };
}

function commentAuth(ssh: YAMLMap, auth: AuthAnswer): void {
  if (auth.kind === 'key') {
    if (auth.passphraseEnv) trailing(ssh, 'passphraseEnv', "variable holding the key's passphrase");
    trailing(ssh, 'agent', 'only keyFile; true also tries the ssh-agent at $SSH_AUTH_SOCK');
  } else if (auth.kind === 'agent') {
    trailing(ssh, 'agent', 'log in with the keys of the ssh-agent at $SSH_AUTH_SOCK');
  } else {
    trailing(ssh, 'passwordEnv', 'variable holding the login password');
  }
}

function commentHost(node: YAMLMap, host: HostAnswer, isInitHost: boolean): void {
  const lines: string[] = [];
  if (host.checked) lines.push(` ${host.checked}`);
  for (const problem of host.kept) lines.push(` KEPT DESPITE: ${problem}`);
  if (lines.length > 0) node.commentBefore = lines.join('\n');
  if (isInitHost) trailing(node, 'role', 'the first control plane runs kubeadm init');
  if (host.internalAddress) trailing(node, 'internalAddress', 'the IP the node advertises to the cluster');
}

function pairIn(map: YAMLMap, key: string): Pair<{ spaceBefore?: boolean; commentBefore?: string | null; comment?: string | null }, unknown> {
  const pair = map.items.find((p) => isScalar(p.key) && p.key.value === key);
  if (!pair) throw new Error(`inventory document has no ${key}`);
  return pair as Pair<{ spaceBefore?: boolean; commentBefore?: string | null; comment?: string | null }, unknown>;
}

function mapAt(map: YAMLMap, key: string): YAMLMap {
  const value = pairIn(map, key).value;
  if (!isMap(value)) throw new Error(`inventory document: ${key} is not a map`);
  return value;
}

/** "key: value  # comment" (for a map value, the comment goes on the key's line). */
function trailing(map: YAMLMap, key: string, text: string, onKey = false): void {
  const pair = pairIn(map, key);
  if (onKey || !isScalar(pair.value)) pair.key.comment = ` ${text}`;
  else pair.value.comment = ` ${text}`;
}

function before(map: YAMLMap, key: string, text: string): void {
  pairIn(map, key).key.commentBefore = text
    .split('\n')
    .map((line) => ` ${line}`)
    .join('\n');
}
