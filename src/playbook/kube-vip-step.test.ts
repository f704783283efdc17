// The kube-vip step of the shipped kubernetes playbook: on control planes only, only with the
// built-in VIP, before kubeadm runs (the cluster phase comes after every step).
import { describe, expect, it } from 'vitest';
import { testCluster } from '../render/fixtures.js';
import { renderKubeVipManifest } from '../render/kube-vip.js';
import { loadPlaybooks } from './load.js';
import { planCluster } from './plan.js';

const playbooks = await loadPlaybooks();

describe('kubernetes/kube-vip', () => {
  it('writes the manifest 0600 on every control plane, none on workers, with the built-in VIP', () => {
    const cluster = testCluster();
    cluster.kubernetes.controlPlaneVip = { address: '10.0.0.100', interface: 'eth0', image: 'ghcr.io/kube-vip/kube-vip:v0.8.9' };
    cluster.kubernetes.controlPlaneEndpoint = '10.0.0.100:6443';
    const plans = planCluster(cluster, playbooks);
    for (const plan of plans) {
      const step = plan.steps.find((s) => s.key === 'kubernetes/kube-vip');
      if (plan.host.role === 'worker') {
        expect(step, plan.host.name).toBeUndefined();
        continue;
      }
      expect(step!.files).toEqual([
        expect.objectContaining({ path: '/etc/kubernetes/manifests/kube-vip.yaml', mode: 0o600, content: renderKubeVipManifest(cluster, plan.host) }),
      ]);
      // Nothing runs: the kubelet kubeadm starts picks the file up.
      expect(step!.run).toBeUndefined();
    }
  });

  it('is not planned without a VIP', () => {
    expect(planCluster(testCluster(), playbooks).flatMap((p) => p.steps).filter((s) => s.key === 'kubernetes/kube-vip')).toEqual([]);
  });
});
