// The kube-vip static Pod manifest every control plane gets with kubernetes.controlPlaneVip:
// what `kube-vip manifest pod --controlplane --arp --leaderElection --address VIP --interface IF`
// prints (kube-vip docs, "Static Pods"), rendered here so it needs no kube-vip binary on the
// laptop and is the same text on every run. Pure.
import { stringify } from 'yaml';
import { initHost, type Cluster, type ControlPlaneVip, type Host } from '../model.js';
import { MANAGED_HEADER } from './header.js';

export const KUBE_VIP_MANIFEST = '/etc/kubernetes/manifests/kube-vip.yaml';
/** The Lease kube-vip's leader election takes in kube-system: its holder owns the address. */
export const KUBE_VIP_LEASE = 'plndr-cp-lock';

const ADMIN_CONF = '/etc/kubernetes/admin.conf';
const SUPER_ADMIN_CONF = '/etc/kubernetes/super-admin.conf';

/**
 * The kubeconfig the host's kube-vip reads. From Kubernetes 1.29 kubeadm's admin.conf gets its
 * rights (the kubeadm:cluster-admins binding) only once `kubeadm init` has reached the API server
 * through the VIP, so on the init host kube-vip could not take its Lease and the VIP never came up:
 * kube-vip's docs (and issue kube-vip#684) have the init host use super-admin.conf, which
 * kubeadm writes on that host only. Every other control plane uses admin.conf, which a
 * control-plane join writes. Kept after init, so a rerun finds the file unchanged.
 */
export function kubeVipKubeconfig(cluster: Cluster, host: Host): string {
  const { major, minor } = cluster.kubernetes.version;
  const fromOneTwentyNine = major > 1 || (major === 1 && minor >= 29);
  return fromOneTwentyNine && host.name === initHost(cluster).name ? SUPER_ADMIN_CONF : ADMIN_CONF;
}

export function renderKubeVipManifest(cluster: Cluster, host: Host): string {
  const vip = cluster.kubernetes.controlPlaneVip;
  if (!vip) throw new Error('kube-vip manifest rendered without kubernetes.controlPlaneVip');
  if (host.role !== 'control-plane') throw new Error(`kube-vip runs on control planes only; ${host.name} is a ${host.role}`);
  const port = cluster.kubernetes.controlPlaneEndpoint.split(':').pop()!;
  const pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'kube-vip', namespace: 'kube-system' },
    spec: {
      containers: [
        {
          name: 'kube-vip',
          image: vip.image,
          imagePullPolicy: 'IfNotPresent',
          args: ['manager'],
          env: env(vip, port),
          securityContext: { capabilities: { add: ['NET_ADMIN', 'NET_RAW'] } },
          volumeMounts: [{ mountPath: ADMIN_CONF, name: 'kubeconfig' }],
        },
      ],
      // kube-vip reaches the API server as kubernetes:<port>: this host's own API server, so it
      // can take the Lease before the VIP exists.
      hostAliases: [{ hostnames: ['kubernetes'], ip: '127.0.0.1' }],
      hostNetwork: true,
      volumes: [{ name: 'kubeconfig', hostPath: { path: kubeVipKubeconfig(cluster, host) } }],
    },
  };
  return `${MANAGED_HEADER}\n${stringify(pod, { lineWidth: 0 })}`;
}

/** ARP mode, control-plane VIP only (no IPVS load balancing, no Services), leader election by Lease. */
function env(vip: ControlPlaneVip, port: string): Array<Record<string, unknown>> {
  const value = (name: string, v: string) => ({ name, value: v });
  return [
    value('vip_arp', 'true'),
    value('port', port),
    { name: 'vip_nodename', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
    value('vip_interface', vip.interface),
    value('vip_cidr', '32'),
    value('dns_mode', 'first'),
    value('cp_enable', 'true'),
    value('cp_namespace', 'kube-system'),
    value('svc_enable', 'false'),
    value('lb_enable', 'false'),
    value('vip_leaderelection', 'true'),
    value('vip_leasename', KUBE_VIP_LEASE),
    value('vip_leaseduration', '5'),
    value('vip_renewdeadline', '3'),
    value('vip_retryperiod', '1'),
    value('address', vip.address),
  ];
}
