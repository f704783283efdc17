// The cluster's questions: its name, then what it runs. A version the bundle's file name tells
// is offered (Kubernetes) or not asked at all (containerd).
import type { InitAnswers } from './answers.js';
import { DEFAULT_CLUSTER_NAME, supportedKubernetesMinors, versionFromBundle } from './defaults.js';
import { clusterNameProblem, versionProblem } from './validate.js';
import { ask, validateWith } from './wizard-ask.js';
import { askBundle, askImages } from './wizard-bundles.js';
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
  return { answer: { version, ...(bundle ? { bundle: bundle.answer } : {}), images }, bundleSource: bundle?.source };
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
