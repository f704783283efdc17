import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { kubeadmApiVersion, renderKubeadmInitConfig, renderKubeadmJoinConfig } from './kubeadm.js';
import { testCluster, testHost } from './fixtures.js';
import { parseVersion } from '../model.js';

const token = 'abcdef.0123456789abcdef';
const certificateKey = 'f'.repeat(64);
const caCertHash = `sha256:${'e'.repeat(64)}`;

function documents(text: string): Array<Record<string, any>> {
  return parseAllDocuments(text).map((doc) => {
    if (doc.errors.length > 0) throw doc.errors[0];
    return doc.toJS() as Record<string, any>;
  });
}

function initFor(kubernetesVersion: string, withKey = true): string {
  const cluster = testCluster({ kubernetesVersion });
  return renderKubeadmInitConfig(cluster, testHost(cluster, 'cp1'), withKey ? { token, certificateKey } : { token });
}

function joinFor(kubernetesVersion: string, hostName: string): string {
  const cluster = testCluster({ kubernetesVersion });
  const host = testHost(cluster, hostName);
  return renderKubeadmJoinConfig(cluster, host, {
    token,
    caCertHash,
    ...(host.role === 'control-plane' ? { certificateKey } : {}),
  });
}

describe('renderKubeadmInitConfig', () => {
  it('writes v1beta3 with map-shaped kubeletExtraArgs for Kubernetes 1.30', () => {
    expect(initFor('1.30.4')).toBe(`apiVersion: kubeadm.k8s.io/v1beta3
kind: InitConfiguration
bootstrapTokens:
  - token: abcdef.0123456789abcdef
    ttl: 24h0m0s
    usages:
      - signing
      - authentication
    groups:
      - system:bootstrappers:kubeadm:default-node-token
localAPIEndpoint:
  advertiseAddress: 10.0.0.11
  bindPort: 6443
nodeRegistration:
  name: cp1
  criSocket: unix:///run/containerd/containerd.sock
  kubeletExtraArgs:
    node-ip: 10.0.0.11
certificateKey: ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff
---
apiVersion: kubeadm.k8s.io/v1beta3
kind: ClusterConfiguration
kubernetesVersion: v1.30.4
clusterName: demo
controlPlaneEndpoint: 10.0.0.11:6443
networking:
  podSubnet: 10.244.0.0/16
  serviceSubnet: 10.96.0.0/12
  dnsDomain: cluster.local
---
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
cgroupDriver: systemd
containerRuntimeEndpoint: unix:///run/containerd/containerd.sock
`);
  });

  it('writes v1beta4 with name/value kubeletExtraArgs for Kubernetes 1.32', () => {
    expect(initFor('1.32.1')).toBe(`apiVersion: kubeadm.k8s.io/v1beta4
kind: InitConfiguration
bootstrapTokens:
  - token: abcdef.0123456789abcdef
    ttl: 24h0m0s
    usages:
      - signing
      - authentication
    groups:
      - system:bootstrappers:kubeadm:default-node-token
localAPIEndpoint:
  advertiseAddress: 10.0.0.11
  bindPort: 6443
nodeRegistration:
  name: cp1
  criSocket: unix:///run/containerd/containerd.sock
  kubeletExtraArgs:
    - name: node-ip
      value: 10.0.0.11
certificateKey: ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff
---
apiVersion: kubeadm.k8s.io/v1beta4
kind: ClusterConfiguration
kubernetesVersion: v1.32.1
clusterName: demo
controlPlaneEndpoint: 10.0.0.11:6443
networking:
  podSubnet: 10.244.0.0/16
  serviceSubnet: 10.96.0.0/12
  dnsDomain: cluster.local
---
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
cgroupDriver: systemd
containerRuntimeEndpoint: unix:///run/containerd/containerd.sock
`);
  });

  it('leaves certificateKey out when none is given', () => {
    const [init] = documents(initFor('1.32.1', false));
    expect(init).not.toHaveProperty('certificateKey');
  });

  it('puts node-labels, sorted by key, beside node-ip when the host has labels', () => {
    const cluster = testCluster({ kubernetesVersion: '1.30.4' });
    const host = { ...testHost(cluster, 'cp1'), labels: { zone: 'b', rack: 'r1' } };
    const [init] = documents(renderKubeadmInitConfig(cluster, host, { token }));
    expect(init!.nodeRegistration.kubeletExtraArgs).toEqual({ 'node-ip': '10.0.0.11', 'node-labels': 'rack=r1,zone=b' });
  });

  it('refuses to init on a worker', () => {
    const cluster = testCluster();
    expect(() => renderKubeadmInitConfig(cluster, testHost(cluster, 'w1'), { token })).toThrow(/w1 is a worker/);
  });

  it('quotes values a YAML 1.1 reader (kubeadm) would not take as strings', () => {
    const cluster = testCluster();
    const host = { ...testHost(cluster, 'cp1'), name: 'yes' };
    const text = renderKubeadmInitConfig(cluster, host, { token });
    expect(text).toContain('  name: "yes"\n');
  });
});

describe('renderKubeadmJoinConfig', () => {
  it('writes a v1beta3 worker join with labels for Kubernetes 1.30', () => {
    expect(joinFor('1.30.4', 'w1')).toBe(`apiVersion: kubeadm.k8s.io/v1beta3
kind: JoinConfiguration
discovery:
  bootstrapToken:
    apiServerEndpoint: 10.0.0.11:6443
    token: abcdef.0123456789abcdef
    caCertHashes:
      - sha256:eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee
  timeout: 1m0s
nodeRegistration:
  name: w1
  criSocket: unix:///run/containerd/containerd.sock
  kubeletExtraArgs:
    node-ip: 10.0.0.21
    node-labels: example.com/tier=batch,zone=a
`);
  });

  it('writes a v1beta3 control-plane join for Kubernetes 1.30', () => {
    expect(joinFor('1.30.4', 'cp2')).toBe(`apiVersion: kubeadm.k8s.io/v1beta3
kind: JoinConfiguration
discovery:
  bootstrapToken:
    apiServerEndpoint: 10.0.0.11:6443
    token: abcdef.0123456789abcdef
    caCertHashes:
      - sha256:eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee
  timeout: 1m0s
nodeRegistration:
  name: cp2
  criSocket: unix:///run/containerd/containerd.sock
  kubeletExtraArgs:
    node-ip: 10.0.0.12
controlPlane:
  localAPIEndpoint:
    advertiseAddress: 10.0.0.12
    bindPort: 6443
  certificateKey: ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff
`);
  });

  it('writes a v1beta4 worker join with labels for Kubernetes 1.32', () => {
    expect(joinFor('1.32.1', 'w1')).toBe(`apiVersion: kubeadm.k8s.io/v1beta4
kind: JoinConfiguration
discovery:
  bootstrapToken:
    apiServerEndpoint: 10.0.0.11:6443
    token: abcdef.0123456789abcdef
    caCertHashes:
      - sha256:eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee
nodeRegistration:
  name: w1
  criSocket: unix:///run/containerd/containerd.sock
  kubeletExtraArgs:
    - name: node-ip
      value: 10.0.0.21
    - name: node-labels
      value: example.com/tier=batch,zone=a
timeouts:
  discovery: 1m0s
`);
  });

  it('writes a v1beta4 control-plane join for Kubernetes 1.32', () => {
    expect(joinFor('1.32.1', 'cp2')).toBe(`apiVersion: kubeadm.k8s.io/v1beta4
kind: JoinConfiguration
discovery:
  bootstrapToken:
    apiServerEndpoint: 10.0.0.11:6443
    token: abcdef.0123456789abcdef
    caCertHashes:
      - sha256:eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee
nodeRegistration:
  name: cp2
  criSocket: unix:///run/containerd/containerd.sock
  kubeletExtraArgs:
    - name: node-ip
      value: 10.0.0.12
controlPlane:
  localAPIEndpoint:
    advertiseAddress: 10.0.0.12
    bindPort: 6443
  certificateKey: ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff
timeouts:
  discovery: 1m0s
`);
  });

  it('gives a worker no controlPlane section', () => {
    const [join] = documents(joinFor('1.32.1', 'w1'));
    expect(join).not.toHaveProperty('controlPlane');
  });

  it('refuses a control-plane join without a certificate key, without echoing the token', () => {
    const cluster = testCluster();
    const join = () => renderKubeadmJoinConfig(cluster, testHost(cluster, 'cp2'), { token, caCertHash });
    expect(join).toThrow('control-plane join of cp2 needs a certificate key');
    expect(join).not.toThrow(token);
  });
});

describe('kubeadm API version and extraArgs shape, parsed back', () => {
  for (const [kubernetesVersion, apiVersion] of [
    ['1.29.9', 'kubeadm.k8s.io/v1beta3'],
    ['1.30.4', 'kubeadm.k8s.io/v1beta3'],
    ['1.31.0', 'kubeadm.k8s.io/v1beta4'],
    ['1.32.1', 'kubeadm.k8s.io/v1beta4'],
  ] as const) {
    it(`uses ${apiVersion} for Kubernetes ${kubernetesVersion}`, () => {
      const v1beta4 = apiVersion.endsWith('v1beta4');
      const [init, clusterConfig, kubelet] = documents(initFor(kubernetesVersion));
      expect(init!.apiVersion).toBe(apiVersion);
      expect(init!.kind).toBe('InitConfiguration');
      expect(clusterConfig!.apiVersion).toBe(apiVersion);
      expect(clusterConfig!.kind).toBe('ClusterConfiguration');
      expect(clusterConfig!.kubernetesVersion).toBe(`v${kubernetesVersion}`);
      expect(kubelet).toEqual({
        apiVersion: 'kubelet.config.k8s.io/v1beta1',
        kind: 'KubeletConfiguration',
        cgroupDriver: 'systemd',
        containerRuntimeEndpoint: 'unix:///run/containerd/containerd.sock',
      });

      const [join] = documents(joinFor(kubernetesVersion, 'w1'));
      expect(join!.apiVersion).toBe(apiVersion);
      const args = join!.nodeRegistration.kubeletExtraArgs;
      if (v1beta4) {
        expect(args).toEqual([
          { name: 'node-ip', value: '10.0.0.21' },
          { name: 'node-labels', value: 'example.com/tier=batch,zone=a' },
        ]);
      } else {
        expect(args).toEqual({ 'node-ip': '10.0.0.21', 'node-labels': 'example.com/tier=batch,zone=a' });
      }
    });
  }

  it('picks by minor version, not by string comparison', () => {
    expect(kubeadmApiVersion(parseVersion('1.9.0')!)).toBe('kubeadm.k8s.io/v1beta3');
    expect(kubeadmApiVersion(parseVersion('1.100.0')!)).toBe('kubeadm.k8s.io/v1beta4');
  });
});
