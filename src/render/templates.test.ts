import { describe, expect, it } from 'vitest';
import { registryHostsFiles, templates } from './templates.js';
import { renderContainerdConfig } from './containerd-config.js';
import { renderContainerdService } from './containerd-service.js';
import { testCluster, testHost } from './fixtures.js';
import { renderHostsBlock } from './node-files.js';

describe('template registry', () => {
  it('names exactly the non-secret node files playbooks refer to', () => {
    expect(Object.keys(templates).sort()).toEqual([
      'containerd/config.toml',
      'containerd/containerd.service',
      'crictl.yaml',
      'kube-vip.yaml',
      'kubelet/10-kubeadm.conf',
      'kubelet/kubelet.service',
      'modules-load.conf',
      'sysctl.conf',
    ]);
  });

  it('renders every template from the cluster it is given, deterministically', () => {
    for (const containerdVersion of ['1.7.22', '2.1.4']) {
      const cluster = testCluster({ containerdVersion });
      // kube-vip.yaml is for control planes of a cluster with the built-in VIP.
      cluster.kubernetes.controlPlaneVip = { address: '10.0.0.100', interface: 'eth0', image: 'ghcr.io/kube-vip/kube-vip:v0.8.9' };
      const ctx = { cluster, host: testHost(cluster, 'cp2'), kubeletPath: '/usr/local/bin/kubelet' };
      for (const [name, render] of Object.entries(templates)) {
        const first = render(ctx);
        expect(first, name).toMatch(/\n$/);
        expect(render(ctx), name).toBe(first);
      }
      expect(templates['containerd/config.toml']!(ctx)).toBe(renderContainerdConfig(cluster.containerd));
      expect(templates['containerd/containerd.service']!(ctx)).toBe(
        renderContainerdService(cluster.containerd.version, '/usr/local/bin'),
      );
    }
  });

  it('runs the kubelet from where it is installed: a bundle\'s /usr/local/bin, or the packages\' /usr/bin', () => {
    const cluster = testCluster();
    for (const kubeletPath of ['/usr/local/bin/kubelet', '/usr/bin/kubelet']) {
      const ctx = { cluster, host: testHost(cluster, 'cp1'), kubeletPath };
      expect(templates['kubelet/kubelet.service']!(ctx)).toContain(`\nExecStart=${kubeletPath}\n`);
      expect(templates['kubelet/10-kubeadm.conf']!(ctx)).toContain(`\nExecStart=${kubeletPath} $KUBELET_`);
    }
  });

  it('adds IPv6 forwarding to the sysctls only for IPv6 and dual-stack clusters', () => {
    const cluster = testCluster();
    const ctx = { cluster, host: testHost(cluster, 'cp1'), kubeletPath: '/usr/bin/kubelet' };
    expect(templates['sysctl.conf']!(ctx)).not.toContain('ipv6');
    const dual = { ...cluster, kubernetes: { ...cluster.kubernetes, podSubnet: '10.244.0.0/16,fd00:10:244::/56' } };
    const text = templates['sysctl.conf']!({ ...ctx, cluster: dual });
    expect(text).toContain('net.ipv6.conf.default.forwarding = 1\n');
    expect(text).toContain('net.ipv6.conf.all.forwarding = 1\n');
  });

  it('renders the /etc/hosts block with every node name between markers naming the cluster', () => {
    const cluster = testCluster();
    const block = renderHostsBlock(cluster);
    expect(block.text.split('\n')).toEqual([block.begin, '10.0.0.11 cp1', '10.0.0.12 cp2', '10.0.0.21 w1', block.end]);
    expect(block.begin).toMatch(/^# BEGIN kubeforge cluster \S+ /);
    expect(block.end).toBe(`# END kubeforge cluster ${cluster.name}`);
  });

  it('lists one hosts.toml per mirrored registry under registryConfigPath', () => {
    const cluster = testCluster({
      registryMirrors: { 'docker.io': ['https://mirror.gcr.io'], 'registry.k8s.io': ['https://k8s.mirror.example'] },
    });
    const files = registryHostsFiles({ cluster, host: testHost(cluster, 'cp1'), kubeletPath: '/usr/bin/kubelet' });
    expect(files.map((f) => f.path)).toEqual([
      '/etc/containerd/certs.d/docker.io/hosts.toml',
      '/etc/containerd/certs.d/registry.k8s.io/hosts.toml',
    ]);
    expect(files[1]!.content).toContain('server = "https://registry.k8s.io"\n');
  });

  it('lists no hosts.toml when there are no mirrors', () => {
    const cluster = testCluster();
    expect(registryHostsFiles({ cluster, host: testHost(cluster, 'cp1'), kubeletPath: '/usr/bin/kubelet' })).toEqual([]);
  });
});
