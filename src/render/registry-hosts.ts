import { stringify } from 'smol-toml';
import type { ContainerdSettings } from '../model.js';
import { MANAGED_HEADER } from './header.js';

/** containerd's fallback namespace: applies to registries without their own directory. */
const DEFAULT_NAMESPACE = '_default';

/** The upstream a registry name stands for; docker.io is served from another host name. */
function registryServer(registry: string): string {
  return registry === 'docker.io' ? 'https://registry-1.docker.io' : `https://${registry}`;
}

/** certs.d/<registry>/hosts.toml: try each mirror in order, then fall back to `server`. */
export function renderRegistryHosts(registry: string, mirrors: readonly string[]): string {
  const host: Record<string, { capabilities: string[] }> = {};
  for (const mirror of mirrors) host[mirror] = { capabilities: ['pull', 'resolve'] };
  // `_default` has no upstream of its own; a server line there would send every unmatched
  // registry to the same host.
  const document =
    registry === DEFAULT_NAMESPACE ? { host } : { server: registryServer(registry), host };
  return `${MANAGED_HEADER}\n${stringify(document)}`;
}

export interface RenderedFile {
  /** Absolute path on the host. */
  path: string;
  content: string;
}

/**
 * One hosts.toml per registry that has mirrors, under settings.registryConfigPath.
 * The registry name becomes a directory name, so a name that could climb out of
 * config_path is refused rather than written somewhere else on the host.
 */
export function renderRegistryHostsFiles(settings: ContainerdSettings): RenderedFile[] {
  const files: RenderedFile[] = [];
  for (const [registry, mirrors] of Object.entries(settings.registryMirrors)) {
    if (mirrors.length === 0) continue;
    if (registry === '' || registry === '.' || registry === '..' || /[/\\]/.test(registry)) {
      throw new Error(`registry name ${JSON.stringify(registry)} cannot be a directory name`);
    }
    files.push({
      path: `${settings.registryConfigPath.replace(/\/+$/, '')}/${registry}/hosts.toml`,
      content: renderRegistryHosts(registry, mirrors),
    });
  }
  return files;
}
