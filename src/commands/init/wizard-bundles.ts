// Questions whose answer is a bundle: a path (checked readable now) or a URL (with its SHA-256),
// written as the inventory names it. Image archives must also name at least one image, and a
// network add-on manifest must parse and configure the pod CIDR the inventory will have.
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { readImageRefs } from '../../bundle/image-refs.js';
import { AddonManifestError, analyzeAddonManifest } from '../../cluster/addon-manifest.js';
import { InputError } from '../../errors.js';
import { parseCidr } from '../../inventory/cidr.js';
import { readableFileProblem } from '../../inventory/file-checks.js';
import { DEFAULTS } from '../../inventory/schema.js';
import type { BundleAnswer } from './answers.js';
import { inventoryPathText, typedPathToAbsolute } from './defaults.js';
import { parseTypedBundle, sha256Problem } from './validate.js';
import { ask, validateWith } from './wizard-ask.js';
import type { WizardDeps } from './wizard.js';

/** A bundle as the inventory writes it, and the path or URL typed (whose file name may tell a version or architecture). */
export interface AskedBundle {
  answer: BundleAnswer;
  source: string;
}

export async function askBundle(
  deps: WizardDeps,
  opts: {
    message: string;
    flag: string;
    optional: boolean;
    preset: string | undefined;
    /** More to check of a local file (absolute path), once it is known to be readable. */
    fileProblem?: (file: string) => Promise<string | undefined>;
  },
): Promise<AskedBundle | undefined> {
  const text = await ask(
    deps.prompts,
    {
      message: opts.message,
      ...(opts.optional ? { default: '' } : {}),
      validate: validateWith((v) => (opts.optional && v.trim() === '' ? undefined : bundleProblem(deps, v, opts.fileProblem))),
      flag: opts.flag,
    },
    opts.preset,
  );
  if (text === '') return undefined;
  return bundleAnswer(deps, text, opts.flag);
}

export async function askImages(deps: WizardDeps): Promise<BundleAnswer[]> {
  const { preset, prompts } = deps;
  const images: BundleAnswer[] = [];
  const flag = '--image';
  if (preset.images !== undefined) {
    for (const text of preset.images) {
      const problem = await imageProblem(deps, text);
      if (problem) throw new InputError(flag, problem);
      images.push((await bundleAnswer(deps, text, flag)).answer);
    }
    return images;
  }
  for (;;) {
    const text = (
      await prompts.input({
        message: `Image archive for every host (docker save, ctr export; empty ${images.length === 0 ? 'for none' : 'when done'})`,
        default: '',
        validate: validateWith((v) => (v.trim() === '' ? undefined : imageProblem(deps, v))),
        flag,
      })
    ).trim();
    if (text === '') return images;
    images.push((await bundleAnswer(deps, text, flag)).answer);
  }
}

async function bundleProblem(deps: WizardDeps, text: string, fileProblem?: (file: string) => Promise<string | undefined>): Promise<string | undefined> {
  const typed = parseTypedBundle(text);
  if (typeof typed === 'string') return typed;
  if (!('path' in typed)) return undefined;
  const file = typedPathToAbsolute(typed.path, deps.paths);
  const problem = await readableFileProblem(file, 'file', '');
  return problem ? problem.message : fileProblem?.(file);
}

/**
 * A network add-on manifest as `up` reads it: YAML that parses, and pod CIDRs (when it sets
 * any) equal to the podSubnet the inventory gets (the wizard writes kubeforge's default).
 * A download is checked the same way when the inventory is loaded.
 */
export async function manifestProblem(file: string): Promise<string | undefined> {
  try {
    const addon = analyzeAddonManifest(await readFile(file, 'utf8'), file);
    const podSubnet = DEFAULTS.kubernetes.podSubnet;
    const want = parseCidr(podSubnet);
    const other = addon.podCidrSources.filter((s) => {
      const cidr = parseCidr(s.cidr.trim());
      return !cidr || !want || cidr.family !== want.family || cidr.network !== want.network || cidr.prefix !== want.prefix;
    });
    if (other.length === 0) return undefined;
    return (
      `the manifest's pod CIDR is not the inventory's podSubnet ${podSubnet} (kubeforge's default): ` +
      `${other.map((s) => `${s.key} is ${s.cidr}`).join(', ')}; edit the manifest to use ${podSubnet}`
    );
  } catch (err) {
    return err instanceof AddonManifestError ? `not a usable network add-on manifest: ${err.message}` : `cannot read ${file}: ${(err as Error).message}`;
  }
}

/** A bundle that is also a readable image archive naming at least one image (as `up` requires). */
async function imageProblem(deps: WizardDeps, text: string): Promise<string | undefined> {
  const problem = await bundleProblem(deps, text);
  const typed = parseTypedBundle(text);
  if (problem || typeof typed === 'string' || !('path' in typed)) return problem;
  const file = typedPathToAbsolute(typed.path, deps.paths);
  try {
    const refs = await readImageRefs(file);
    return refs.length === 0 ? `${file} names no image (no RepoTags, no image name annotations)` : undefined;
  } catch (err) {
    return `${file} is not a usable image archive: ${(err as Error).message}`;
  }
}

async function bundleAnswer(deps: WizardDeps, text: string, flag: string): Promise<AskedBundle> {
  const typed = parseTypedBundle(text);
  if (typeof typed === 'string') throw new InputError(flag, typed);
  if ('path' in typed) return { answer: { path: inventoryPathText(typed.path, deps.paths) }, source: typed.path };
  const sha256 =
    typed.sha256 ??
    (await ask(
      deps.prompts,
      { message: `SHA-256 of ${basename(new URL(typed.url).pathname)} (the published checksum)`, validate: validateWith(sha256Problem), flag: `${flag} URL@sha256:HEX` },
      undefined,
    )).toLowerCase();
  return { answer: { url: typed.url, sha256 }, source: typed.url };
}
