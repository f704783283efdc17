import { MANAGED_HEADER } from './header.js';

/**
 * /etc/systemd/system/kubelet.service. Before `kubeadm init`/`join` writes its config the
 * kubelet exits at once; it must keep restarting until then, so start limits are off.
 */
export function renderKubeletService(kubeletPath: string): string {
  return [
    MANAGED_HEADER,
    '[Unit]',
    'Description=kubelet: The Kubernetes Node Agent',
    'Documentation=https://kubernetes.io/docs/',
    'Wants=network-online.target',
    'After=network-online.target containerd.service',
    'StartLimitIntervalSec=0',
    '',
    '[Service]',
    `ExecStart=${kubeletPath}`,
    'Restart=always',
    'RestartSec=10',
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    '',
  ].join('\n');
}

/**
 * /etc/systemd/system/kubelet.service.d/10-kubeadm.conf: how kubeadm hands the kubelet its
 * kubeconfigs, its config file and node-specific flags (kubeadm-flags.env). No
 * `--container-runtime=remote`: that flag was removed in Kubernetes 1.27; the runtime
 * endpoint is in KubeletConfiguration.containerRuntimeEndpoint.
 */
export function renderKubeadmDropIn(kubeletPath: string): string {
  return [
    MANAGED_HEADER,
    '[Service]',
    'Environment="KUBELET_KUBECONFIG_ARGS=--bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf --kubeconfig=/etc/kubernetes/kubelet.conf"',
    'Environment="KUBELET_CONFIG_ARGS=--config=/var/lib/kubelet/config.yaml"',
    '# Written by kubeadm init/join; sets KUBELET_KUBEADM_ARGS.',
    'EnvironmentFile=-/var/lib/kubelet/kubeadm-flags.env',
    '# Last-resort local overrides; sets KUBELET_EXTRA_ARGS.',
    'EnvironmentFile=-/etc/default/kubelet',
    '# Clear the ExecStart of kubelet.service before replacing it.',
    'ExecStart=',
    `ExecStart=${kubeletPath} $KUBELET_KUBECONFIG_ARGS $KUBELET_CONFIG_ARGS $KUBELET_KUBEADM_ARGS $KUBELET_EXTRA_ARGS`,
    '',
  ].join('\n');
}
