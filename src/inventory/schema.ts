// The inventory as a user writes it: one zod schema that validates the YAML, documents every
// field (descriptions and examples feed both error hints and the JSON Schema editors read), and
// is exported as JSON Schema. It only validates; defaults that depend on other fields, files and
// the environment are applied later by resolve.ts.
import * as z from 'zod';
import { isIPv4 } from 'node:net';
import { isAddress, isIP, parseHostPort } from './address.js';
import { isCidr } from './cidr.js';
import { DURATION_PATTERN, parseDuration } from './duration.js';
import { HOST_PATH, HTTP_URL_START, mirrorUrlProblem, SAFE_PATH_RULE } from './host-values.js';
import { DNS1123_LABEL, DNS1123_LABEL_RULE, DNS1123_SUBDOMAIN, labelKeyProblem, labelValueProblem } from './k8s-names.js';
import { EXACT_VERSION } from './versions.js';
import { showValue } from './problem.js';
import { bundleUrlProblem, redactUrl } from './url-credentials.js';
import { parseProxyJump } from '../ssh/proxy-jump.js';

/** Values used when the inventory leaves a field out. */
export const DEFAULTS = {
  ssh: {
    user: 'root',
    port: 22,
    agent: true,
    knownHostsFile: '~/.ssh/known_hosts',
    acceptNewHostKeys: false,
    connectTimeout: '10s',
    keepaliveInterval: '5s',
  },
  kubernetes: {
    apiServerPort: 6443,
    podSubnet: '10.244.0.0/16',
    serviceSubnet: '10.96.0.0/12',
    clusterDomain: 'cluster.local',
    /** kube-vip release the built-in control-plane VIP runs, pinned (kubernetes.controlPlaneVip.image overrides it). */
    kubeVipImage: 'ghcr.io/kube-vip/kube-vip:v0.8.9',
  },
  containerd: {
    socket: '/run/containerd/containerd.sock',
    // sandboxImage has no fixed default: it is the pause image kubeadm of kubernetes.version
    // expects (kubeadmPauseImage in src/cluster/kubeadm-images.ts), applied by resolve.ts.
    registryConfigPath: '/etc/containerd/certs.d',
  },
} as const;

/** How the docs (JSON Schema, example, wizard) describe defaults that depend on other fields. */
export const DEFAULT_TEXT = {
  sandboxImage:
    'the pause image kubeadm of kubernetes.version expects: registry.k8s.io/pause:3.9 up to Kubernetes 1.30, 3.10 for 1.31 to 1.33, 3.10.1 from 1.34',
  offline: 'true when kubernetes.images lists an archive, otherwise false',
} as const;

// Messages name the offending value; index.ts prefixes the field's path.
type IssueLike = { input?: unknown };
const isNot = (what: string) => ({ error: (issue: IssueLike) => `${showValue(issue.input)} is not ${what}` });

function doc<T extends z.ZodType>(schema: T, description: string, example?: unknown, fallback?: unknown): T {
  return schema.meta({
    description,
    ...(example === undefined ? {} : { examples: [example] }),
    ...(fallback === undefined ? {} : { default: fallback }),
  });
}

// Linux interface names: at most 15 bytes (IFNAMSIZ - 1), no "/" or white space; kept to what needs no quoting.
const INTERFACE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,14}$/;

const dnsLabel = z.string().regex(DNS1123_LABEL, isNot(DNS1123_LABEL_RULE));

const version = z.string().regex(EXACT_VERSION, isNot('a full version X.Y.Z, such as 1.30.2'));

const port = z
  .number()
  .int(isNot('a port number (a whole number from 1 to 65535)'))
  .min(1, isNot('a port number (1 to 65535)'))
  .max(65535, isNot('a port number (1 to 65535)'));

const duration = z.string().regex(DURATION_PATTERN, isNot('a duration such as 10s, 2m, 1m30s or 500ms'));

// A path on the hosts: absolute, and of characters that need no quoting anywhere it goes.
const hostPath = z.string().regex(HOST_PATH, {
  error: (issue: IssueLike) =>
    /^\/./.test(String(issue.input))
      ? `${showValue(issue.input)} holds characters a path on the hosts may not hold: ${SAFE_PATH_RULE}`
      : `${showValue(issue.input)} is not an absolute path (starting with /)`,
});

const envVarName = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, isNot('the name of an environment variable (letters, digits and _)'));

const localFile = z.string().min(1, { error: 'is empty; expected a file path' });

const cidr = z.string().refine(isCidr, isNot('a CIDR block such as 10.244.0.0/16 or fd00:10::/56'));

const sha256 = z.string().regex(/^[0-9a-fA-F]{64}$/, isNot('a SHA-256 checksum (64 hex digits)'));

// Written into hosts.toml on every host: an http(s) URL as RFC 3986 spells it, without credentials.
const mirrorUrl = z
  .string()
  .regex(HTTP_URL_START, isNot('an http:// or https:// URL'))
  .refine((text) => mirrorUrlProblem(text) === undefined, {
    error: (issue: IssueLike) => `${showValue(issue.input)} ${mirrorUrlProblem(String(issue.input))}`,
  });

// A bundle's download URL, refused when it carries credentials (url-credentials.ts); messages
// show it with those parts replaced by ***, so a refused secret is not printed either.
const bundleUrl = z
  .string()
  .regex(HTTP_URL_START, { error: (issue: IssueLike) => `${showValue(redactUrl(String(issue.input)))} is not an http:// or https:// URL` })
  .refine((text) => !HTTP_URL_START.test(text) || bundleUrlProblem(text) === undefined, {
    error: (issue: IssueLike) => `${showValue(redactUrl(String(issue.input)))} ${bundleUrlProblem(String(issue.input))}`,
  });

const bundleSource = z.union(
  [
    doc(localFile, 'Path of the file, relative to the inventory file; ~ is your home directory.'),
    z.strictObject({
      url: doc(
        bundleUrl,
        'Where to download the file from (fetched once into the local cache). No credentials in it (user:password@, token= or signature parameters): a private server\'s token goes in the environment variable tokenEnv names.',
      ),
      sha256: doc(sha256, 'Expected SHA-256 of the file; the download is rejected when it differs.'),
      tokenEnv: doc(
        envVarName,
        'Name of the environment variable holding a token for the download, sent as "Authorization: Bearer TOKEN" to the URL\'s own host only (not to a host it redirects to).',
        'KUBEFORGE_BUNDLE_TOKEN',
      ).optional(),
    }),
  ],
  { error: (issue: IssueLike) => `${showValue(issue.input)} is not a bundle: write a file path, or {url, sha256}` },
);

const labelKey = z.string().refine((key) => labelKeyProblem(key) === undefined, {
  error: (issue: IssueLike) => `label key ${showValue(issue.input)} is invalid: ${labelKeyProblem(String(issue.input))}`,
});
const labelValue = z.string().refine((value) => labelValueProblem(value) === undefined, {
  error: (issue: IssueLike) => `label value ${showValue(issue.input)} is invalid: ${labelValueProblem(String(issue.input))}`,
});

// Registry host names as containerd's certs.d directory names them; "_default" applies to all.
const registryHost = z.string().refine((host) => host === '_default' || parseHostPort(host) !== undefined, {
  error: (issue: IssueLike) => `registry ${showValue(issue.input)} is not a registry host[:port] or _default`,
});

const imageReference = z
  .string()
  .regex(
    /^[A-Za-z0-9.-]+(:\d+)?(\/[a-z0-9]+([._-]+[a-z0-9]+)*)*(:\w[\w.-]{0,127})?(@sha256:[0-9a-f]{64})?$/,
    isNot('an image reference such as registry.k8s.io/pause:3.10'),
  );

const endpoint = z
  .string()
  .refine((text) => parseHostPort(text) !== undefined, isNot('host:port, such as 10.0.0.10:6443 or [fd00::10]:6443'));

const sshFields = z.strictObject({
  user: doc(
    z.string().regex(/^[A-Za-z_][A-Za-z0-9_.-]*$/, isNot('a user name')),
    'Login user on the host.',
    'admin',
    DEFAULTS.ssh.user,
  ).optional(),
  port: doc(port, 'SSH port on the host.', 2222, DEFAULTS.ssh.port).optional(),
  keyFile: doc(
    localFile,
    'Private key file, relative to the inventory file; ~ is your home directory. Must not be readable by group or others.',
    '~/.ssh/id_ed25519',
  ).optional(),
  passphraseEnv: doc(envVarName, 'Name of the environment variable that holds the key passphrase.', 'KUBEFORGE_KEY_PASSPHRASE').optional(),
  agent: doc(z.boolean(), 'Use the ssh-agent at $SSH_AUTH_SOCK when it is set.', true, DEFAULTS.ssh.agent).optional(),
  passwordEnv: doc(envVarName, 'Name of the environment variable that holds the SSH password.', 'KUBEFORGE_SSH_PASSWORD').optional(),
  sudoPasswordEnv: doc(
    envVarName,
    'Name of the environment variable that holds the sudo password, when user is not root and sudo asks for one.',
    'KUBEFORGE_SUDO_PASSWORD',
  ).optional(),
  knownHostsFile: doc(
    localFile,
    'known_hosts file that host keys are checked against.',
    '~/.ssh/known_hosts',
    DEFAULTS.ssh.knownHostsFile,
  ).optional(),
  acceptNewHostKeys: doc(
    z.boolean(),
    'Trust and record the key of a host that is not in knownHostsFile yet (trust on first use).',
    false,
    DEFAULTS.ssh.acceptNewHostKeys,
  ).optional(),
  connectTimeout: doc(
    // A malformed duration is the pattern's to report; this only rejects "0s".
    duration.refine((text) => (parseDuration(text) ?? 1) > 0, { error: 'must be longer than 0' }),
    'How long to wait for the SSH connection and handshake.',
    '10s',
    DEFAULTS.ssh.connectTimeout,
  ).optional(),
  keepaliveInterval: doc(
    duration,
    'How often to send SSH keepalives on an idle connection; 0s turns them off.',
    '5s',
    DEFAULTS.ssh.keepaliveInterval,
  ).optional(),
  proxyJump: doc(
    z.string().refine((text) => !('problem' in (parseProxyJump(text) as object)), {
      error: (issue: IssueLike) => {
        const parsed = parseProxyJump(String(issue.input));
        return `${showValue(issue.input)} is not a ProxyJump: ${'problem' in parsed ? parsed.problem : ''}`;
      },
    }),
    'Bastion(s) to reach the host through, as OpenSSH\'s ProxyJump: user@host:port, a chain as a,b (the first dialled from here), ' +
      'or none to ignore a ProxyJump from the ssh config. Each bastion\'s host key is checked against known_hosts like the host\'s.',
    'admin@bastion.example.com:22',
  ).optional(),
});

// The top-level ssh section also says which OpenSSH client config to read.
const globalSshFields = sshFields.extend({
  configFile: doc(
    localFile,
    'OpenSSH client config read for Host/Match blocks (HostName, User, Port, IdentityFile, IdentitiesOnly, ProxyJump, ' +
      'UserKnownHostsFile, ConnectTimeout, ServerAliveInterval); what the inventory sets explicitly wins over it. ' +
      'none reads no file. Default: ~/.ssh/config when it exists.',
    '~/.ssh/config',
  ).optional(),
});

const host = z.strictObject({
  name: doc(dnsLabel, 'Node name: a DNS-1123 label, unique in the inventory.', 'cp1'),
  address: doc(
    z.string().refine(isAddress, isNot('an IPv4 address, IPv6 address or DNS name')),
    'Address kubeforge reaches the host at over SSH: IPv4, IPv6 or DNS name.',
    '10.0.0.10',
  ),
  role: doc(z.enum(['control-plane', 'worker']), 'control-plane or worker; the first control-plane host runs kubeadm init.', 'control-plane'),
  internalAddress: doc(
    z.string().refine(isIP, isNot('an IPv4 or IPv6 address')),
    'IP address the node advertises to the cluster (kubelet node IP, API server address); defaults to address.',
    '10.0.0.10',
  ).optional(),
  labels: doc(
    z.record(
      doc(labelKey, 'Label key: [prefix/]name, as in topology.kubernetes.io/zone.', 'zone'),
      doc(labelValue, 'Label value: empty, or up to 63 letters, digits, "-", "_" and ".".', 'a'),
    ),
    'Kubernetes labels put on the node; keys and values follow Kubernetes label syntax.',
    { zone: 'a' },
  ).optional(),
  ssh: doc(sshFields, 'Overrides of the top-level ssh settings for this host.', { user: 'admin', port: 2222 }).optional(),
});

export const inventorySchema = z
  .strictObject({
    cluster: doc(
      z.strictObject({ name: doc(dnsLabel, 'Cluster name: a DNS-1123 label.', 'demo') }),
      'The cluster as a whole: its name (required).',
    ),
    kubernetes: doc(
      z.strictObject({
        version: doc(version, `Kubernetes version to install, X.Y.Z.`, '1.30.2'),
        bundle: doc(
          bundleSource,
          'Tarball with bin/kubeadm and bin/kubelet (and bin/kubectl), for hosts without packages: a path, or {url, sha256}.',
          './bundles/kubernetes-1.30.2-linux-amd64.tar.gz',
        ).optional(),
        controlPlaneEndpoint: doc(
          endpoint,
          'host:port of the API server as nodes reach it, e.g. a load balancer; defaults to the init host internalAddress:6443 (to VIP:6443 with controlPlaneVip, which excludes it).',
          '10.0.0.10:6443',
        ).optional(),
        controlPlaneVip: doc(
          z.strictObject({
            address: doc(
              z.string().refine((t) => isIPv4(t), isNot('an IPv4 address (kube-vip announces it by ARP)')),
              'The virtual IP: a free IPv4 address in the control planes\' subnet, no host\'s own address. kubeforge checks both before anything changes.',
              '10.0.0.100',
            ),
            interface: doc(
              z.string().regex(INTERFACE_NAME, isNot('a network interface name such as eth0 (up to 15 letters, digits, ".", "_" or "-")')),
              'The network interface on every control plane that carries the subnet; the leader adds the address to it.',
              'eth0',
            ),
            image: doc(imageReference, `The kube-vip image the static Pods run (in the image archives when offline).`, DEFAULTS.kubernetes.kubeVipImage, DEFAULTS.kubernetes.kubeVipImage).optional(),
          }),
          'A built-in virtual IP for several control planes: kube-vip (ARP mode, leader election by a Lease) as a static Pod on each one, ' +
            'and controlPlaneEndpoint on VIP:6443. Instead of controlPlaneEndpoint (an external load balancer), not with it.',
          { address: '10.0.0.100', interface: 'eth0' },
        ).optional(),
        podSubnet: doc(cidr, 'CIDR block for pod IPs.', DEFAULTS.kubernetes.podSubnet).default(DEFAULTS.kubernetes.podSubnet),
        serviceSubnet: doc(cidr, 'CIDR block for service IPs; must not overlap podSubnet.', DEFAULTS.kubernetes.serviceSubnet).default(
          DEFAULTS.kubernetes.serviceSubnet,
        ),
        clusterDomain: doc(
          z.string().regex(DNS1123_SUBDOMAIN, isNot('a DNS domain such as cluster.local')),
          'DNS domain of the cluster.',
          DEFAULTS.kubernetes.clusterDomain,
        ).default(DEFAULTS.kubernetes.clusterDomain),
        images: doc(
          z.array(bundleSource),
          'Image archives (docker save / ctr export) imported into containerd on every host, for offline installs.',
          ['./bundles/images.tar'],
        ).default([]),
        offline: doc(
          z.boolean(),
          'The image archives are the only source of images (the hosts reach no registry): kubeforge then checks, before anything changes, ' +
            'that they hold every image kubeadm, the sandbox image and the network add-on need. ' +
            `Default: ${DEFAULT_TEXT.offline}.`,
          true,
        ).optional(),
        criTools: doc(
          bundleSource,
          'cri-tools release tarball (crictl at its top level), installed as /usr/local/bin/crictl: a path, or {url, sha256}.',
          './bundles/crictl-v1.30.0-linux-amd64.tar.gz',
        ).optional(),
        cniPlugins: doc(
          bundleSource,
          'containernetworking-plugins release tarball (bridge, loopback, ... at its top level), unpacked into /opt/cni/bin: a path, or {url, sha256}.',
          './bundles/cni-plugins-linux-amd64-v1.5.1.tgz',
        ).optional(),
      }),
      'Kubernetes version (required), artifacts and cluster networking.',
    ),
    network: doc(
      z.strictObject({
        manifest: doc(
          bundleSource,
          'The network add-on manifest (multi-document YAML, e.g. kube-flannel.yml or calico.yaml) applied once after kubeadm init: a path, or {url, sha256}. ' +
            'The pod CIDRs it configures must equal kubernetes.podSubnet.',
          './bundles/kube-flannel.yml',
        ),
      }),
      'The network add-on (Flannel, Calico, ...); without it nodes stay NotReady until you apply one.',
    ).optional(),
    containerd: doc(
      z.strictObject({
        bundle: doc(
          bundleSource,
          'containerd release tarball: a path, or {url, sha256}.',
          './bundles/containerd-1.7.20-linux-amd64.tar.gz',
        ),
        version: doc(
          version,
          'containerd version, X.Y.Z; may be left out when the bundle file name carries it (containerd-X.Y.Z-…).',
          '1.7.20',
        ).optional(),
        socket: doc(hostPath, "containerd's gRPC socket.", DEFAULTS.containerd.socket).default(DEFAULTS.containerd.socket),
        sandboxImage: doc(
          imageReference,
          `Sandbox (pause) image. Default: ${DEFAULT_TEXT.sandboxImage}.`,
          'registry.k8s.io/pause:3.10',
        ).optional(),
        registryMirrors: doc(
          z.record(
            registryHost,
            z.array(doc(mirrorUrl, 'Mirror endpoint URL: http:// or https://, without credentials.', 'https://mirror.example.com')).min(1, { error: 'lists no mirror; give at least one URL' }),
          ),
          'Registry host → mirror endpoint URLs, written as hosts.toml files under registryConfigPath.',
          { 'docker.io': ['https://mirror.example.com'] },
        ).default({}),
        registryConfigPath: doc(
          hostPath,
          'Directory containerd reads registry hosts.toml files from.',
          DEFAULTS.containerd.registryConfigPath,
        ).default(DEFAULTS.containerd.registryConfigPath),
      }),
      'The container runtime: its release tarball (bundle, required) and settings.',
    ),
    osPackages: doc(
      z.strictObject({
        bundle: doc(
          bundleSource,
          'Tarball of .deb files (with their dependencies) installed on every host for hosts without a reachable package repository: a path, or {url, sha256}. ' +
            'Without it, missing packages come from the host\'s package manager.',
          './bundles/os-packages-debian12-amd64.tar',
        ).optional(),
      }),
      'Operating-system packages kubeadm and the kubelet need (iptables, conntrack, socat, ...).',
    ).optional(),
    relay: doc(
      z.strictObject({
        enabled: doc(
          z.boolean(),
          'Hosts pass bundles on to each other over their internal addresses, so the laptop sends about one copy of each; ' +
            'a host a peer cannot reach gets its copy from the laptop. `kubeforge up --relay off` overrides it for one run.',
          false,
          true,
        ).default(true),
      }),
      'How bundles reach the hosts.',
    ).optional(),
    ssh: doc(globalSshFields, 'SSH settings for every host; a host can override any of them (but configFile) under its own ssh key.').optional(),
    hosts: doc(
      z
        .array(
          doc(host, 'One machine: name, address and role, plus optional internalAddress, labels and ssh overrides.', {
            name: 'cp1',
            address: '10.0.0.10',
            role: 'control-plane',
          }),
        )
        .min(1, { error: 'lists no host; add at least one control-plane host' }),
      'The machines of the cluster.',
    ),
  })
  .meta({
    title: 'kubeforge inventory',
    description:
      'A Kubernetes cluster on containerd that kubeforge brings up over SSH. Secrets are never written here: only the names of environment variables that hold them.',
  });

/** The inventory as validated, before files, the environment and cross-field defaults are applied. */
export type Inventory = z.output<typeof inventorySchema>;
export type SshFields = z.output<typeof sshFields>;
export type GlobalSshFields = z.output<typeof globalSshFields>;
export type BundleSource = z.output<typeof bundleSource>;

/** JSON Schema (draft-07, what YAML language servers read) of what a user may write. */
export function inventoryJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(inventorySchema, { target: 'draft-7', io: 'input' }) as Record<string, unknown>;
}
