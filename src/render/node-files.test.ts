import { describe, expect, it } from 'vitest';
import { parse as parseToml } from 'smol-toml';
import { parse as parseYaml } from 'yaml';
import { renderCrictlConfig } from './crictl.js';
import { renderModulesLoad, renderSysctl } from './node-files.js';
import { renderKubeadmDropIn, renderKubeletService } from './kubelet.js';
import { renderContainerdConfig } from './containerd-config.js';
import { testCluster } from './fixtures.js';

describe('crictl.yaml', () => {
  it('points both endpoints at the socket as a unix:// URL', () => {
    expect(renderCrictlConfig('/run/containerd/containerd.sock')).toBe(`# Managed by kubeforge: local edits are overwritten on the next run.
runtime-endpoint: unix:///run/containerd/containerd.sock
image-endpoint: unix:///run/containerd/containerd.sock
timeout: 10
debug: false
`);
  });

  it("names the same socket as containerd's [grpc] address", () => {
    const cluster = testCluster({ containerdVersion: '2.1.4' });
    cluster.containerd.socket = '/var/run/custom/containerd.sock';
    const grpc = parseToml(renderContainerdConfig(cluster.containerd)).grpc as { address: string };
    const crictl = parseYaml(renderCrictlConfig(cluster.containerd.socket));
    expect(crictl['runtime-endpoint']).toBe(`unix://${grpc.address}`);
    expect(crictl['image-endpoint']).toBe(`unix://${grpc.address}`);
  });
});

describe('kernel modules and sysctls', () => {
  it('loads overlay and br_netfilter at boot', () => {
    expect(renderModulesLoad()).toBe(`# Managed by kubeforge: local edits are overwritten on the next run.
overlay
br_netfilter
`);
  });

  it('enables forwarding and bridge netfilter for IPv4 and IPv6', () => {
    expect(renderSysctl()).toBe(`# Managed by kubeforge: local edits are overwritten on the next run.
net.ipv4.ip_forward = 1
net.bridge.bridge-nf-call-iptables = 1
net.bridge.bridge-nf-call-ip6tables = 1
`);
  });
});

describe('kubelet units', () => {
  it('renders kubelet.service that starts after containerd and never gives up restarting', () => {
    expect(renderKubeletService('/usr/local/bin/kubelet')).toBe(`# Managed by kubeforge: local edits are overwritten on the next run.
[Unit]
Description=kubelet: The Kubernetes Node Agent
Documentation=https://kubernetes.io/docs/
Wants=network-online.target
After=network-online.target containerd.service
StartLimitIntervalSec=0

[Service]
ExecStart=/usr/local/bin/kubelet
Restart=always
RestartSec=10

[Install]
WantedBy=multi-user.target
`);
  });

  it('renders the modern kubeadm drop-in', () => {
    const dropIn = renderKubeadmDropIn('/usr/local/bin/kubelet');
    expect(dropIn).toBe(`# Managed by kubeforge: local edits are overwritten on the next run.
[Service]
Environment="KUBELET_KUBECONFIG_ARGS=--bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf --kubeconfig=/etc/kubernetes/kubelet.conf"
Environment="KUBELET_CONFIG_ARGS=--config=/var/lib/kubelet/config.yaml"
# Written by kubeadm init/join; sets KUBELET_KUBEADM_ARGS.
EnvironmentFile=-/var/lib/kubelet/kubeadm-flags.env
# Last-resort local overrides; sets KUBELET_EXTRA_ARGS.
EnvironmentFile=-/etc/default/kubelet
# Clear the ExecStart of kubelet.service before replacing it.
ExecStart=
ExecStart=/usr/local/bin/kubelet $KUBELET_KUBECONFIG_ARGS $KUBELET_CONFIG_ARGS $KUBELET_KUBEADM_ARGS $KUBELET_EXTRA_ARGS
`);
    // Removed in Kubernetes 1.27; the kubelet refuses to start with it.
    expect(dropIn).not.toContain('--container-runtime');
  });
});
