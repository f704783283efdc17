import type { Version } from '../model.js';

/** containerd releases whose config layout kubeforge knows how to write. */
export const SUPPORTED_CONTAINERD = '1.6, 1.7, 2.0, 2.1, 2.2';

/**
 * The config.toml schema version a containerd release expects: 1.6/1.7 read `version = 2`,
 * 2.0–2.2 read `version = 3` (the CRI plugin was split and renamed). Anything else returns
 * undefined so the inventory loader can report it as an input error before touching a host.
 */
export function containerdConfigVersion(version: Version): 2 | 3 | undefined {
  if (version.major === 1 && (version.minor === 6 || version.minor === 7)) return 2;
  if (version.major === 2 && version.minor <= 2) return 3;
  return undefined;
}

/** As containerdConfigVersion, but a renderer asked for an unknown layout is a bug: throw. */
export function requireContainerdConfigVersion(version: Version): 2 | 3 {
  const configVersion = containerdConfigVersion(version);
  if (configVersion === undefined) {
    throw new Error(
      `containerd ${version.text} is not supported (supported: ${SUPPORTED_CONTAINERD})`,
    );
  }
  return configVersion;
}
