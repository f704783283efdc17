// The cluster's questions: its name, then what it runs. A version the bundle's file name tells
// is offered (Kubernetes) or not asked at all (containerd). Then what every node needs beside
// them: crictl, the CNI plugins, the network add-on and, for hosts without a package mirror,
// the OS packages.
import { InputError } from '../../errors.js';
import type { BundleAnswer, InitAnswers } from './answers.js';
import { DEFAULT_CLUSTER_NAME, supportedKubernetesMinors, versionFromBundle } from './defaults.js';
import { clusterNameProblem, versionProblem } from './validate.js';
import { ask, validateWith } from './wizard-ask.js';
import { askBundle, askImages, manifestProblem, type AskedBundle } from './wizard-bundles.js';
import type { WizardDeps } from './wizard.js';

/** A component's answers, and the path or URL of its bundle (undefined: none). */
export interface AskedComponent<Answer> {
  answer: Answer;
  bundleSource: string | undefined;
}

export function askClusterName(deps: WizardDeps): Promise<string> {
  return ask(
    deps.prompts,
    { message: 'Cluster name', default: DEFAULT_CLUSTER_NAME, validate: validateWith(clusterNameProblem), flag: '--name' },
    deps.preset.clusterName,
  );
}

export async function askKubernetes(deps: WizardDeps): Promise<AskedComponent<InitAnswers['kubernetes']>> {
  const bundle = await askBundle(deps, {
    message: 'Kubernetes bundle with bin/kubeadm and bin/kubelet (path or URL; empty: none)',
    flag: '--kubernetes-bundle',
    optional: true,
    preset: deps.preset.kubernetesBundle,
  });
  const version = await askKubernetesVersion(deps, bundle?.source);
  const images = await askImages(deps);
  const offline = await askOffline(deps, images);
  return {
    answer: { version, ...(bundle ? { bundle: bundle.answer } : {}), images, ...(offline !== undefined ? { offline } : {}) },
    bundleSource: bundle?.source,
  };
}

/** Only with image archives: are they all the hosts have (no registry)? --offline says yes. */
async function askOffline(deps: WizardDeps, images: BundleAnswer[]): Promise<boolean | undefined> {
  const { preset, prompts } = deps;
  if (images.length === 0) {
    if (preset.offline) {
      throw new InputError('--offline', 'needs image archives: without them the hosts would have no source of images', 'give the archives with --image (repeat for more), or leave out --offline');
    }
    return undefined;
  }
  if (preset.offline !== undefined) return preset.offline;
  return prompts.confirm({
    message: "Are these archives the hosts' only source of images (no registry reachable; kubeforge checks they hold every image)?",
    default: false,
    flag: '--offline',
  });
}

export interface NodeBundles {
  criTools?: AskedBundle;
  cniPlugins?: AskedBundle;
  networkManifest?: AskedBundle;
  osPackages?: AskedBundle;
}

/** What a node needs beside containerd and kubeadm; each optional, each with what it is for. */
export async function askNodeBundles(deps: WizardDeps): Promise<NodeBundles> {
  const { preset } = deps;
  const criTools = await askBundle(deps, {
    message: 'cri-tools release tarball: crictl, which kubeadm needs (path or URL; empty: none)',
    flag: '--cri-tools',
    optional: true,
    preset: preset.criTools,
  });
  const cniPlugins = await askBundle(deps, {
    message: 'CNI plugins tarball (containernetworking-plugins): bridge, loopback… that pods need (path or URL; empty: none)',
    flag: '--cni-plugins',
    optional: true,
    preset: preset.cniPlugins,
  });
  const networkManifest = await askBundle(deps, {
    message: 'Network add-on manifest (kube-flannel.yml, calico.yaml); without one nodes stay NotReady (path or URL; empty: none)',
    flag: '--network-manifest',
    optional: true,
    preset: preset.networkManifest,
    fileProblem: manifestProblem,
  });
  const osPackages = await askBundle(deps, {
    message: 'OS packages bundle: a tarball of .deb files, for hosts without a package mirror (path or URL; empty: none)',
    flag: '--os-packages',
    optional: true,
    preset: preset.osPackages,
  });
  return {
    ...(criTools ? { criTools } : {}),
    ...(cniPlugins ? { cniPlugins } : {}),
    ...(networkManifest ? { networkManifest } : {}),
    ...(osPackages ? { osPackages } : {}),
  };
}

export async function askContainerd(deps: WizardDeps): Promise<AskedComponent<InitAnswers['containerd']>> {
  const { preset } = deps;
  const bundle = (await askBundle(deps, {
    message: 'containerd bundle, the release tarball (path or URL)',
    flag: '--containerd-bundle',
    optional: false,
    preset: preset.containerdBundle,
  }))!;
  const version = versionFromBundle('containerd', bundle.source)
    ? undefined
    : await ask(
        deps.prompts,
        {
          message: "containerd version (the bundle's file name does not say it)",
          validate: validateWith((v) => versionProblem('containerd', v)),
          flag: '--containerd-version',
        },
        preset.containerdVersion,
      );
  return { answer: { bundle: bundle.answer, ...(version ? { version } : {}) }, bundleSource: bundle.source };
}

async function askKubernetesVersion(deps: WizardDeps, bundleSource: string | undefined): Promise<string> {
  const { preset, prompts } = deps;
  const check = validateWith((v) => versionProblem('kubernetes', v));
  if (preset.kubernetesVersion !== undefined) return ask(prompts, { message: 'Kubernetes version', validate: check, flag: '--kubernetes-version' }, preset.kubernetesVersion);
  const fromBundle = versionFromBundle('kubernetes', bundleSource);
  const minors = supportedKubernetesMinors();
  const picked = await prompts.select<string>({
    message: 'Kubernetes version',
    flag: '--kubernetes-version',
    choices: [
      ...(fromBundle ? [{ value: fromBundle, name: `${fromBundle} (the bundle's version)` }] : []),
      ...minors.map((minor) => ({ value: minor, name: `${minor}.x` })),
    ],
    default: fromBundle ?? minors[0]!,
  });
  if (picked === fromBundle) return picked;
  return ask(prompts, { message: `Kubernetes ${picked} release (X.Y.Z)`, default: `${picked}.0`, validate: check, flag: '--kubernetes-version' }, undefined);
}
