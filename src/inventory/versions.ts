// Which Kubernetes and containerd versions kubeforge supports, and versions read from file names.
import { compareVersions, type Version } from '../model.js';

export type Component = 'kubernetes' | 'containerd';

const SUPPORTED: Record<Component, { label: string; oldest: [number, number]; newest: [number, number] }> = {
  kubernetes: { label: 'Kubernetes', oldest: [1, 28], newest: [1, 35] },
  containerd: { label: 'containerd', oldest: [1, 6], newest: [2, 2] },
};

/** A full version X.Y.Z (an optional leading "v" allowed); also the schema's pattern. */
export const EXACT_VERSION = /^v?\d+\.\d+\.\d+$/;

export function parseExactVersion(text: string): Version | undefined {
  const m = /^v?(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (!m) return undefined;
  const [major, minor, patch] = [Number(m[1]), Number(m[2]), Number(m[3])];
  return { major, minor, patch, text: `${major}.${minor}.${patch}` };
}

export function supportedRange(component: Component): string {
  const { oldest, newest } = SUPPORTED[component];
  return `${oldest.join('.')} to ${newest.join('.')}`;
}

/** Why the version is not supported, or undefined when it is. */
export function unsupportedReason(component: Component, version: Version): string | undefined {
  const { label, oldest, newest } = SUPPORTED[component];
  const asVersion = ([major, minor]: [number, number], patch: number): Version => ({ major, minor, patch, text: '' });
  const tooOld = compareVersions(version, asVersion(oldest, 0)) < 0;
  const tooNew = compareVersions(version, asVersion(newest, Number.MAX_SAFE_INTEGER)) > 0;
  if (!tooOld && !tooNew) return undefined;
  return `${label} ${version.text} is not supported (kubeforge supports ${label} ${supportedRange(component)})`;
}

// The release tarballs' names: containerd-1.7.20-linux-amd64.tar.gz, containerd-static-2.1.4-…,
// and the kubernetes-<version>-… bundles kubeforge's docs describe.
const FILE_NAME_VERSION: Record<Component, RegExp> = {
  containerd: /^containerd-(?:static-)?v?(\d+\.\d+\.\d+)-/,
  kubernetes: /^kubernetes-(?:server-)?v?(\d+\.\d+\.\d+)-/,
};

/** The version a bundle's file name carries, or undefined when the name does not follow the pattern. */
export function versionInFileName(component: Component, fileName: string): Version | undefined {
  const m = FILE_NAME_VERSION[component].exec(fileName);
  return m ? parseExactVersion(m[1]!) : undefined;
}
