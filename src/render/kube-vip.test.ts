import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import type { Cluster } from '../model.js';
import { testCluster, testHost } from './fixtures.js';
import { renderKubeadmInitConfig, renderKubeadmJoinConfig } from './kubeadm.js';
import { KUBE_VIP_LEASE, renderKubeVipManifest } from './kube-vip.js';
import { templates } from './templates.js';

function withVip(kubernetesVersion = '1.30.4'): Cluster {
  const cluster = testCluster({ kubernetesVersion });
  cluster.kubernetes.controlPlaneVip = { address: '10.0.0.100', interface: 'eth0', image: 'ghcr.io/kube-vip/kube-vip:v0.8.9' };
  cluster.kubernetes.controlPlaneEndpoint = '10.0.0.100:6443';
  return cluster;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Pod = Record<string, any>;
const pod = (text: string): Pod => parse(text) as Pod;
const envOf = (p: Pod): Record<string, unknown> =>
  Object.fromEntries((p.spec.containers[0].env as Array<{ name: string; value?: string; valueFrom?: unknown }>).map((e) => [e.name, e.value ?? e.valueFrom]));

describe('kube-vip static Pod manifest', () => {
  it('is kube-vip in ARP mode for the control plane only, leader election by a Lease, on the named interface', () => {
    const cluster = withVip();
    const p = pod(renderKubeVipManifest(cluster, testHost(cluster, 'cp2')));
    expect(p).toMatchObject({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'kube-vip', namespace: 'kube-system' } });
    expect(p.spec.hostNetwork).toBe(true);
    expect(p.spec.hostAliases).toEqual([{ hostnames: ['kubernetes'], ip: '127.0.0.1' }]);
    const c = p.spec.containers[0];
    expect(c.image).toBe('ghcr.io/kube-vip/kube-vip:v0.8.9');
    expect(c.args).toEqual(['manager']);
    expect(c.securityContext.capabilities.add).toEqual(['NET_ADMIN', 'NET_RAW']);
    expect(envOf(p)).toMatchObject({
      vip_arp: 'true',
      cp_enable: 'true',
      svc_enable: 'false',
      lb_enable: 'false',
      vip_leaderelection: 'true',
      vip_leasename: KUBE_VIP_LEASE,
      vip_interface: 'eth0',
      vip_cidr: '32',
      address: '10.0.0.100',
      port: '6443',
    });
    // Every value is a string, as a Pod's env needs (a YAML number would be refused by the kubelet).
    for (const e of c.env as Array<{ value?: unknown }>) if ('value' in e) expect(typeof e.value).toBe('string');
  });

  it('differs between control planes only in the kubeconfig: super-admin.conf on the init host from 1.29', () => {
    const cluster = withVip('1.30.4');
    const [init, second] = [renderKubeVipManifest(cluster, testHost(cluster, 'cp1')), renderKubeVipManifest(cluster, testHost(cluster, 'cp2'))];
    expect(pod(init).spec.volumes).toEqual([{ name: 'kubeconfig', hostPath: { path: '/etc/kubernetes/super-admin.conf' } }]);
    expect(pod(second).spec.volumes).toEqual([{ name: 'kubeconfig', hostPath: { path: '/etc/kubernetes/admin.conf' } }]);
    // Mounted where kube-vip reads it, on every host.
    expect(pod(init).spec.containers[0].volumeMounts).toEqual([{ mountPath: '/etc/kubernetes/admin.conf', name: 'kubeconfig' }]);
    expect(init.replace('/etc/kubernetes/super-admin.conf', '/etc/kubernetes/admin.conf')).toBe(second);
  });

  it('uses admin.conf on the init host before 1.29 (kubeadm writes no super-admin.conf there)', () => {
    const cluster = withVip('1.28.9');
    expect(pod(renderKubeVipManifest(cluster, testHost(cluster, 'cp1'))).spec.volumes[0].hostPath.path).toBe('/etc/kubernetes/admin.conf');
  });

  it('is refused for a worker, and without a VIP', () => {
    const cluster = withVip();
    expect(() => renderKubeVipManifest(cluster, testHost(cluster, 'w1'))).toThrow(/control planes only/);
    const plain = testCluster();
    expect(() => renderKubeVipManifest(plain, testHost(plain, 'cp1'))).toThrow(/controlPlaneVip/);
  });

  it('is the template playbooks name', () => {
    const cluster = withVip();
    const host = testHost(cluster, 'cp2');
    expect(templates['kube-vip.yaml']!({ cluster, host, kubeletPath: '/usr/bin/kubelet' })).toBe(renderKubeVipManifest(cluster, host));
  });
});

describe('kubeadm configuration with the built-in VIP', () => {
  it('puts the VIP in the API server certificate and joins through it', () => {
    const cluster = withVip('1.31.1');
    const [, clusterConfig] = parseAllDocuments(renderKubeadmInitConfig(cluster, testHost(cluster, 'cp1'), { token: 'abcdef.0123456789abcdef' })).map((d) => d.toJS() as Pod);
    expect(clusterConfig!.controlPlaneEndpoint).toBe('10.0.0.100:6443');
    expect(clusterConfig!.apiServer).toEqual({ certSANs: ['10.0.0.100'] });
    const join = parse(
      renderKubeadmJoinConfig(cluster, testHost(cluster, 'cp2'), { token: 'abcdef.0123456789abcdef', caCertHash: `sha256:${'e'.repeat(64)}`, certificateKey: 'f'.repeat(64) }),
    ) as Pod;
    expect(join.discovery.bootstrapToken.apiServerEndpoint).toBe('10.0.0.100:6443');
  });

  it('leaves apiServer out without a VIP', () => {
    const cluster = testCluster();
    const [, clusterConfig] = parseAllDocuments(renderKubeadmInitConfig(cluster, testHost(cluster, 'cp1'), { token: 'abcdef.0123456789abcdef' })).map((d) => d.toJS() as Pod);
    expect(clusterConfig!.apiServer).toBeUndefined();
  });
});
