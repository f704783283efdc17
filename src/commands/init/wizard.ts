// The questions of `kubeforge init`, in order, and what happens between them: each host is
// contacted as soon as it is added. Answers given as flags (the preset) skip their question but
// are checked like typed ones. Knows nothing of terminals or files: prompts, probing and output
// come in through WizardDeps, so tests drive it with rendered prompts and a fake prober.
import type { Role } from '../../model.js';
import type { InitAnswers } from './answers.js';
import type { PathContext } from './defaults.js';
import type { Prober } from './probe.js';
import type { Prompts } from './prompts.js';
import { askClusterName, askContainerd, askKubernetes, askNodeBundles } from './wizard-cluster.js';
import { askHosts } from './wizard-hosts.js';
import { askSsh } from './wizard-ssh.js';

export { CONNECT_TIMEOUT_MS } from './wizard-ssh.js';

/** A host given on the command line: `--host ADDRESS[:PORT][,name=NAME][,role=ROLE][,internal=IP]`. */
export interface HostSpec {
  address: string;
  name?: string;
  role?: Role;
  internalAddress?: string;
}

/** Answers given as flags; undefined means "ask" (or, with --yes, take the default). */
export interface Preset {
  clusterName?: string;
  kubernetesVersion?: string;
  /** "" for none. */
  kubernetesBundle?: string;
  images?: string[];
  containerdBundle?: string;
  containerdVersion?: string;
  /** true with --offline: the image archives are the hosts' only source of images. */
  offline?: boolean;
  /** "" for none, like kubernetesBundle. */
  criTools?: string;
  cniPlugins?: string;
  networkManifest?: string;
  osPackages?: string;
  user?: string;
  port?: number;
  key?: string;
  agent?: boolean;
  passwordEnv?: string;
  passphraseEnv?: string;
  knownHostsFile?: string;
  hosts?: HostSpec[];
  acceptNewHostKeys?: boolean;
}

export interface WizardDeps {
  prompts: Prompts;
  preset: Preset;
  paths: PathContext;
  env: NodeJS.ProcessEnv;
  /** Private keys found in ~/.ssh, absolute paths, the usual names first. */
  foundKeys: string[];
  /** undefined: do not contact hosts (--no-probe). */
  probe?: Prober;
  say(line: string): void;
  signal?: AbortSignal;
  /** DNS lookup for a host added by name; the node's IP is offered from it. */
  resolveAddress?(name: string): Promise<string | undefined>;
}

export const SUDO_PASSWORD_ENV = 'KUBEFORGE_SUDO_PASSWORD';

export async function runWizard(deps: WizardDeps): Promise<InitAnswers> {
  const clusterName = await askClusterName(deps);
  const kubernetes = await askKubernetes(deps);
  const containerd = await askContainerd(deps);
  const node = await askNodeBundles(deps);
  const ssh = await askSsh(deps);
  const { hosts, sudoPasswordNeeded } = await askHosts(deps, {
    user: ssh.answer.user,
    port: ssh.answer.port,
    settings: ssh.settings,
    bundles: [
      ['containerd', containerd.bundleSource],
      ['Kubernetes', kubernetes.bundleSource],
      ['cri-tools', node.criTools?.source],
      ['CNI plugins', node.cniPlugins?.source],
    ],
  });
  return {
    clusterName,
    kubernetes: {
      ...kubernetes.answer,
      ...(node.criTools ? { criTools: node.criTools.answer } : {}),
      ...(node.cniPlugins ? { cniPlugins: node.cniPlugins.answer } : {}),
    },
    ...(node.networkManifest ? { network: { manifest: node.networkManifest.answer } } : {}),
    containerd: containerd.answer,
    ...(node.osPackages ? { osPackages: { bundle: node.osPackages.answer } } : {}),
    ssh: { ...ssh.answer, ...(sudoPasswordNeeded ? { sudoPasswordEnv: SUDO_PASSWORD_ENV } : {}) },
    hosts,
  };
}
