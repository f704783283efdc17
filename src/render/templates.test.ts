import { describe, expect, it } from 'vitest';
import { registryHostsFiles, templates } from './templates.js';
import { renderContainerdConfig } from './containerd-config.js';
import { renderContainerdService } from './containerd-service.js';
import { testCluster, testHost } from './fixtures.js';

describe('template registry', () => {
  it('names exactly the non-secret node files playbooks refer to', () => {
    expect(Object.keys(templates).sort()).toEqual([
      'containerd/config.toml',
      'containerd/containerd.service',
      'crictl.yaml',
      'kubelet/10-kubeadm.conf',
      'kubelet/kubelet.service',
      'modules-load.conf',
      'sysctl.conf',
    ]);
  });

  it('renders every template from the cluster it is given, deterministically', () => {
    for (const containerdVersion of ['1.7.22', '2.1.4']) {
      const cluster = testCluster({ containerdVersion });
      const ctx = { cluster, host: testHost(cluster, 'w1') };
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

  it('installs the kubelet from /usr/local/bin', () => {
    const cluster = testCluster();
    const ctx = { cluster, host: testHost(cluster, 'cp1') };
    expect(templates['kubelet/kubelet.service']!(ctx)).toContain('\nExecStart=/usr/local/bin/kubelet\n');
    expect(templates['kubelet/10-kubeadm.conf']!(ctx)).toContain('\nExecStart=/usr/local/bin/kubelet $KUBELET_');
  });

  it('lists one hosts.toml per mirrored registry under registryConfigPath', () => {
    const cluster = testCluster({
      registryMirrors: { 'docker.io': ['https://mirror.gcr.io'], 'registry.k8s.io': ['https://k8s.mirror.example'] },
    });
    const files = registryHostsFiles({ cluster, host: testHost(cluster, 'cp1') });
    expect(files.map((f) => f.path)).toEqual([
      '/etc/containerd/certs.d/docker.io/hosts.toml',
      '/etc/containerd/certs.d/registry.k8s.io/hosts.toml',
    ]);
    expect(files[1]!.content).toContain('server = "https://registry.k8s.io"\n');
  });

  it('lists no hosts.toml when there are no mirrors', () => {
    const cluster = testCluster();
    expect(registryHostsFiles({ cluster, host: testHost(cluster, 'cp1') })).toEqual([]);
  });
});
