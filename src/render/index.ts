// Pure renderers for every file kubeforge puts on a node: no I/O, no clock, no randomness.
export { templates, registryHostsFiles, BIN_DIR, type TemplateContext } from './templates.js';
export type { RenderedFile } from './registry-hosts.js';
export { renderRegistryHosts } from './registry-hosts.js';
export { renderContainerdConfig } from './containerd-config.js';
export { renderContainerdService } from './containerd-service.js';
export {
  containerdConfigVersion,
  requireContainerdConfigVersion,
  SUPPORTED_CONTAINERD,
} from './containerd-version.js';
export { criEndpoint } from './cri-endpoint.js';
export { renderCrictlConfig } from './crictl.js';
export { renderModulesLoad, renderSysctl, renderHostsBlock, clusterUsesIPv6, KERNEL_MODULES, SYSCTLS, IPV6_SYSCTLS } from './node-files.js';
export { renderKubeletService, renderKubeadmDropIn } from './kubelet.js';
export {
  renderKubeadmInitConfig,
  renderKubeadmJoinConfig,
  kubeadmApiVersion,
  type KubeadmApiVersion,
  type InitSecrets,
  type JoinSecrets,
} from './kubeadm.js';
