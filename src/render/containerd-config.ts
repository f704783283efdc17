import { stringify } from 'smol-toml';
import type { ContainerdSettings } from '../model.js';
import { requireContainerdConfigVersion } from './containerd-version.js';
import { MANAGED_HEADER } from './header.js';

const RUNC_RUNTIME_TYPE = 'io.containerd.runc.v2';

/**
 * /etc/containerd/config.toml. Only what differs from containerd's defaults is written.
 * Registry mirrors go exclusively through `config_path` (hosts.toml files): containerd refuses
 * to start when the legacy `mirrors` table is set together with `config_path`.
 */
export function renderContainerdConfig(settings: ContainerdSettings): string {
  const configVersion = requireContainerdConfigVersion(settings.version);
  const runc = {
    runtime_type: RUNC_RUNTIME_TYPE,
    // The kubelet is configured with cgroupDriver systemd; both must agree.
    options: { SystemdCgroup: true },
  };
  const plugins =
    configVersion === 2
      ? {
          'io.containerd.grpc.v1.cri': {
            sandbox_image: settings.sandboxImage,
            containerd: { runtimes: { runc } },
            registry: { config_path: settings.registryConfigPath },
          },
        }
      : {
          'io.containerd.cri.v1.images': {
            pinned_images: { sandbox: settings.sandboxImage },
            registry: { config_path: settings.registryConfigPath },
          },
          'io.containerd.cri.v1.runtime': {
            containerd: { runtimes: { runc } },
          },
        };
  const document = {
    version: configVersion,
    grpc: { address: settings.socket },
    plugins,
  };
  return `${MANAGED_HEADER}\n${stringify(document)}`;
}
