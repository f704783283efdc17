import type { Cluster, Host } from '../model.js';
import { renderContainerdConfig } from './containerd-config.js';
import { renderContainerdService } from './containerd-service.js';
import { renderCrictlConfig } from './crictl.js';
import { renderKubeadmDropIn, renderKubeletService } from './kubelet.js';
import { renderKubeVipManifest } from './kube-vip.js';
import { clusterUsesIPv6, renderModulesLoad, renderSysctl } from './node-files.js';
import { renderRegistryHostsFiles, type RenderedFile } from './registry-hosts.js';

/** Where the tarballs' binaries are installed on every host. */
export const BIN_DIR = '/usr/local/bin';

export interface TemplateContext {
  cluster: Cluster;
  host: Host;
  /** The kubelet binary the unit runs: BIN_DIR/kubelet from a bundle, else where packages put it. */
  kubeletPath: string;
}

/**
 * The non-secret files a node needs, by the stable names playbooks refer to. Where a file is
 * written is the playbook's business; kubeadm configs are not here because they hold secrets
 * and are rendered by the cluster choreography with the tokens it mints.
 */
export const templates: Record<string, (ctx: TemplateContext) => string> = {
  'containerd/config.toml': ({ cluster }) => renderContainerdConfig(cluster.containerd),
  'containerd/containerd.service': ({ cluster }) =>
    renderContainerdService(cluster.containerd.version, BIN_DIR),
  'crictl.yaml': ({ cluster }) => renderCrictlConfig(cluster.containerd.socket),
  'modules-load.conf': () => renderModulesLoad(),
  'sysctl.conf': ({ cluster }) => renderSysctl(clusterUsesIPv6(cluster)),
  'kubelet/kubelet.service': ({ kubeletPath }) => renderKubeletService(kubeletPath),
  'kubelet/10-kubeadm.conf': ({ kubeletPath }) => renderKubeadmDropIn(kubeletPath),
  'kube-vip.yaml': ({ cluster, host }) => renderKubeVipManifest(cluster, host),
};

/** certs.d/<registry>/hosts.toml for each mirrored registry, with their absolute paths. */
export function registryHostsFiles(ctx: TemplateContext): RenderedFile[] {
  return renderRegistryHostsFiles(ctx.cluster.containerd);
}
