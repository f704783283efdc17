// Questions whose answer is a bundle: a path (checked readable now) or a URL (with its SHA-256),
// written as the inventory names it. Image archives must also name at least one image.
import { basename } from 'node:path';
import { readImageRefs } from '../../bundle/image-refs.js';
import { InputError } from '../../errors.js';
import { readableFileProblem } from '../../inventory/file-checks.js';
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
  opts: { message: string; flag: string; optional: boolean; preset: string | undefined },
): Promise<AskedBundle | undefined> {
  const text = await ask(
    deps.prompts,
    {
      message: opts.message,
      ...(opts.optional ? { default: '' } : {}),
      validate: validateWith((v) => (opts.optional && v.trim() === '' ? undefined : bundleProblem(deps, v))),
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

async function bundleProblem(deps: WizardDeps, text: string): Promise<string | undefined> {
  const typed = parseTypedBundle(text);
  if (typeof typed === 'string') return typed;
  if (!('path' in typed)) return undefined;
  const problem = await readableFileProblem(typedPathToAbsolute(typed.path, deps.paths), 'file', '');
  return problem?.message;
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
