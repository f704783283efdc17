import { stringify } from 'yaml';
import type { Cluster, Host, Version } from '../model.js';
import { criEndpoint } from './cri-endpoint.js';

// kubeadm config files carry bootstrap tokens and certificate keys: they are uploaded as 0600
// files and nothing here may log or echo them.

export type KubeadmApiVersion = 'kubeadm.k8s.io/v1beta3' | 'kubeadm.k8s.io/v1beta4';

const API_SERVER_PORT = 6443;
const JOIN_DISCOVERY_TIMEOUT = '1m0s';

/** v1beta4 is the config API from Kubernetes 1.31; v1beta3 before it. */
export function kubeadmApiVersion(kubernetes: Version): KubeadmApiVersion {
  const v1beta4 = kubernetes.major > 1 || (kubernetes.major === 1 && kubernetes.minor >= 31);
  return v1beta4 ? 'kubeadm.k8s.io/v1beta4' : 'kubeadm.k8s.io/v1beta3';
}

/** v1beta3 takes extra args as a map; v1beta4 as a list of {name, value} (repeats allowed). */
type ExtraArgs = Record<string, string> | Array<{ name: string; value: string }>;

function extraArgs(apiVersion: KubeadmApiVersion, args: Array<[string, string]>): ExtraArgs {
  if (apiVersion === 'kubeadm.k8s.io/v1beta4') return args.map(([name, value]) => ({ name, value }));
  return Object.fromEntries(args);
}

function nodeRegistration(cluster: Cluster, host: Host, apiVersion: KubeadmApiVersion) {
  const kubeletArgs: Array<[string, string]> = [['node-ip', host.internalAddress]];
  // Sorted so the rendered file (and the step fingerprint) does not depend on inventory order.
  const labels = Object.entries(host.labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  if (labels.length > 0) {
    kubeletArgs.push(['node-labels', labels.map(([key, value]) => `${key}=${value}`).join(',')]);
  }
  return {
    name: host.name,
    criSocket: criEndpoint(cluster.containerd.socket),
    kubeletExtraArgs: extraArgs(apiVersion, kubeletArgs),
  };
}

function localAPIEndpoint(host: Host) {
  return { advertiseAddress: host.internalAddress, bindPort: API_SERVER_PORT };
}

function kubeletConfiguration(cluster: Cluster) {
  return {
    apiVersion: 'kubelet.config.k8s.io/v1beta1',
    kind: 'KubeletConfiguration',
    cgroupDriver: 'systemd',
    containerRuntimeEndpoint: criEndpoint(cluster.containerd.socket),
  };
}

// kubeadm parses its config with a YAML 1.1 reader, where plain `yes`, `on`, `1:30` are not
// strings; emitting for 1.1 quotes them. lineWidth 0 keeps long values on one line.
function toYamlDocuments(documents: object[]): string {
  return documents.map((doc) => stringify(doc, { version: '1.1', lineWidth: 0 })).join('---\n');
}

function requireControlPlane(host: Host, what: string): void {
  if (host.role !== 'control-plane') {
    throw new Error(`${what} is for control-plane hosts; ${host.name} is a ${host.role}`);
  }
}

export interface InitSecrets {
  /** Bootstrap token "abcdef.0123456789abcdef" the other hosts join with. */
  token: string;
  /** Key the control-plane certificates are uploaded with, for extra control planes. */
  certificateKey?: string;
}

/** The --config file for `kubeadm init` on the init host. */
export function renderKubeadmInitConfig(cluster: Cluster, host: Host, secrets: InitSecrets): string {
  requireControlPlane(host, 'kubeadm init');
  const apiVersion = kubeadmApiVersion(cluster.kubernetes.version);
  const init = {
    apiVersion,
    kind: 'InitConfiguration',
    bootstrapTokens: [
      {
        token: secrets.token,
        ttl: '24h0m0s',
        usages: ['signing', 'authentication'],
        groups: ['system:bootstrappers:kubeadm:default-node-token'],
      },
    ],
    localAPIEndpoint: localAPIEndpoint(host),
    nodeRegistration: nodeRegistration(cluster, host, apiVersion),
    ...(secrets.certificateKey !== undefined ? { certificateKey: secrets.certificateKey } : {}),
  };
  const clusterConfiguration = {
    apiVersion,
    kind: 'ClusterConfiguration',
    kubernetesVersion: `v${cluster.kubernetes.version.text}`,
    clusterName: cluster.name,
    controlPlaneEndpoint: cluster.kubernetes.controlPlaneEndpoint,
    // kubeadm puts the endpoint's host in the serving certificate itself; naming the VIP keeps it
    // there whatever the endpoint becomes (a DNS name in front of the VIP, say).
    ...(cluster.kubernetes.controlPlaneVip ? { apiServer: { certSANs: [cluster.kubernetes.controlPlaneVip.address] } } : {}),
    networking: {
      podSubnet: cluster.kubernetes.podSubnet,
      serviceSubnet: cluster.kubernetes.serviceSubnet,
      dnsDomain: cluster.kubernetes.clusterDomain,
    },
  };
  return toYamlDocuments([init, clusterConfiguration, kubeletConfiguration(cluster)]);
}

export interface JoinSecrets {
  token: string;
  /** "sha256:<hex>" of the cluster CA's public key: the joining host trusts only that CA. */
  caCertHash: string;
  /** Required when the joining host is a control plane. */
  certificateKey?: string;
}

/** The --config file for `kubeadm join` on every host but the init host. */
export function renderKubeadmJoinConfig(cluster: Cluster, host: Host, join: JoinSecrets): string {
  const apiVersion = kubeadmApiVersion(cluster.kubernetes.version);
  let controlPlane = {};
  if (host.role === 'control-plane') {
    if (join.certificateKey === undefined) {
      throw new Error(`control-plane join of ${host.name} needs a certificate key`);
    }
    controlPlane = {
      controlPlane: { localAPIEndpoint: localAPIEndpoint(host), certificateKey: join.certificateKey },
    };
  }
  const bootstrapToken = {
    apiServerEndpoint: cluster.kubernetes.controlPlaneEndpoint,
    token: join.token,
    caCertHashes: [join.caCertHash],
  };
  // kubeforge joins only once the API server answered through the endpoint, so a discovery
  // that fails for a minute is a network problem (a firewall, a wrong endpoint), not a slow
  // start: fail then, not after kubeadm's default 5 minutes. v1beta4 moved the setting.
  const v1beta4 = apiVersion === 'kubeadm.k8s.io/v1beta4';
  const joinConfiguration = {
    apiVersion,
    kind: 'JoinConfiguration',
    discovery: { bootstrapToken, ...(v1beta4 ? {} : { timeout: JOIN_DISCOVERY_TIMEOUT }) },
    nodeRegistration: nodeRegistration(cluster, host, apiVersion),
    ...controlPlane,
    ...(v1beta4 ? { timeouts: { discovery: JOIN_DISCOVERY_TIMEOUT } } : {}),
  };
  // The kubelet settings come from the cluster's kubelet-config ConfigMap on join; the
  // KubeletConfiguration rendered at init is what every node gets.
  return toYamlDocuments([joinConfiguration]);
}
