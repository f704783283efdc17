import { describe, expect, it } from 'vitest';
import { clusterVersionFrom, nodeVersionsFrom } from './upgrade-facts.js';

describe('upgrade facts', () => {
  it('reads kubernetesVersion from the kubeadm-config ConfigMap', () => {
    const cm = { data: { ClusterConfiguration: 'apiVersion: kubeadm.k8s.io/v1beta3\nkind: ClusterConfiguration\nkubernetesVersion: v1.30.2\n' } };
    expect(clusterVersionFrom(JSON.stringify(cm)).text).toBe('1.30.2');
    expect(() => clusterVersionFrom(JSON.stringify({ data: {} }))).toThrow(/no ClusterConfiguration/);
    expect(() => clusterVersionFrom(JSON.stringify({ data: { ClusterConfiguration: 'kind: ClusterConfiguration\n' } }))).toThrow(/kubernetesVersion/);
  });

  it('reads each node\'s kubelet version, Ready and cordon state', () => {
    const list = {
      items: [
        { metadata: { name: 'cp1' }, spec: {}, status: { nodeInfo: { kubeletVersion: 'v1.31.1' }, conditions: [{ type: 'Ready', status: 'True' }] } },
        { metadata: { name: 'w1' }, spec: { unschedulable: true }, status: { nodeInfo: { kubeletVersion: 'v1.30.2' }, conditions: [{ type: 'Ready', status: 'False' }] } },
      ],
    };
    expect(nodeVersionsFrom(JSON.stringify(list)).map((n) => [n.name, n.kubelet.text, n.ready, n.unschedulable])).toEqual([
      ['cp1', '1.31.1', true, false],
      ['w1', '1.30.2', false, true],
    ]);
  });
});
