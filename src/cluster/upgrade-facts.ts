// What an upgrade is decided from, read through kubectl on the init host: the control plane's
// version as kubeadm records it (kubeadm-config's ClusterConfiguration.kubernetesVersion, which
// `kubeadm upgrade apply` updates) and each node's kubeletVersion (what its running kubelet says).
// The parsing is pure; readClusterVersions is the edge.
import { parse as parseYaml } from 'yaml';
import { parseVersion, type Version } from '../model.js';
import { RemoteCommandError, tailLines, type Remote } from '../run/remote.js';
import type { ClusterVersions } from './decide.js';
import { isInitialised } from './kubeadm.js';
import { kubectl, type KubectlContext } from './kubectl.js';

const KUBEADM_CONFIG = '/api/v1/namespaces/kube-system/configmaps/kubeadm-config';

/** The ConfigMap's JSON → the ClusterConfiguration's kubernetesVersion. */
export function clusterVersionFrom(configMapJson: string): Version {
  let cm: { data?: { ClusterConfiguration?: string } };
  try {
    cm = JSON.parse(configMapJson) as typeof cm;
  } catch {
    throw new Error('the kubeadm-config ConfigMap is not JSON');
  }
  const text = cm.data?.ClusterConfiguration;
  if (!text) throw new Error('the kubeadm-config ConfigMap has no ClusterConfiguration');
  const doc = parseYaml(text) as { kubernetesVersion?: unknown } | null;
  const version = typeof doc?.kubernetesVersion === 'string' ? parseVersion(doc.kubernetesVersion) : undefined;
  if (!version) throw new Error(`kubeadm-config's ClusterConfiguration has no usable kubernetesVersion (${JSON.stringify(doc?.kubernetesVersion)})`);
  return version;
}

interface NodeListJson {
  items?: Array<{
    metadata?: { name?: string };
    spec?: { unschedulable?: boolean };
    status?: { nodeInfo?: { kubeletVersion?: string }; conditions?: Array<{ type?: string; status?: string }> };
  }>;
}

/** `kubectl get nodes -o json` → each node's kubelet version, Ready and cordon state. */
export function nodeVersionsFrom(json: string): ClusterVersions['nodes'] {
  let list: NodeListJson;
  try {
    list = JSON.parse(json) as NodeListJson;
  } catch {
    throw new Error('kubectl get nodes -o json printed something that is not JSON');
  }
  return (list.items ?? []).flatMap((item) => {
    const kubelet = parseVersion(item.status?.nodeInfo?.kubeletVersion ?? '');
    if (!item.metadata?.name || !kubelet) return [];
    return [{
      name: item.metadata.name,
      kubelet,
      ready: item.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false,
      unschedulable: item.spec?.unschedulable === true,
    }];
  });
}

async function get(remote: Remote, ctx: KubectlContext, args: string, env: Record<string, string> = {}): Promise<string> {
  const r = await kubectl(remote, ctx, args, env);
  if (r.code !== 0) {
    const output = tailLines(ctx.redact(`${r.stdout}\n${r.stderr}`), 5);
    throw new RemoteCommandError(`kubectl ${args.split(' ')[0]} on ${remote.name} failed (exit ${r.code}): ${output.split('\n').pop() ?? ''}`, r.code, output);
  }
  return r.stdout;
}

/** The cluster's versions, or undefined when the init host was never initialised (a first run). */
export async function readClusterVersions(remote: Remote, ctx: KubectlContext): Promise<ClusterVersions | undefined> {
  if (!(await isInitialised(remote, ctx.signal))) return undefined;
  return readInitialisedClusterVersions(remote, ctx);
}

/** readClusterVersions on a host known to be initialised (the two reads side by side). */
export async function readInitialisedClusterVersions(remote: Remote, ctx: KubectlContext): Promise<ClusterVersions> {
  const [config, nodes] = await Promise.all([get(remote, ctx, 'get --raw "$KF_PATH"', { KF_PATH: KUBEADM_CONFIG }), get(remote, ctx, 'get nodes -o json')]);
  return { cluster: clusterVersionFrom(config), nodes: nodeVersionsFrom(nodes) };
}

/** Only the node list (the rollout's Ready-at-version wait). */
export async function readNodeVersions(remote: Remote, ctx: KubectlContext): Promise<ClusterVersions['nodes']> {
  return nodeVersionsFrom(await get(remote, ctx, 'get nodes -o json'));
}
