import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { inventorySchema } from '../../inventory/schema.js';
import type { InitAnswers } from './answers.js';
import { renderInventory, schemaReference } from './document.js';

const answers: InitAnswers = {
  clusterName: 'demo',
  kubernetes: {
    version: '1.30.2',
    bundle: { path: './bundles/kubernetes-1.30.2-linux-amd64.tar.gz' },
    images: [{ path: './bundles/images.tar' }, { url: 'https://example.com/pause.tar', sha256: 'ab'.repeat(32) }],
  },
  containerd: { bundle: { path: '/srv/containerd.tar.gz' }, version: '1.7.20' },
  ssh: { user: 'root', port: 22, auth: { kind: 'key', keyFile: '~/.ssh/id_ed25519' }, knownHostsFile: './known_hosts', sudoPasswordEnv: 'KUBEFORGE_SUDO_PASSWORD' },
  hosts: [
    { name: 'cp1', address: '10.0.0.10', role: 'control-plane', checked: 'hostname cp1, Debian GNU/Linux 12 (bookworm), x86_64, systemd, logs in as root', kept: [] },
    {
      name: '2024',
      address: 'w1.example.com',
      port: 2222,
      user: 'admin',
      role: 'worker',
      internalAddress: '10.0.0.11',
      kept: ['w1.example.com: ETIMEDOUT'],
    },
  ],
};

describe('the inventory document', () => {
  it('is the YAML a reader expects, comments in place', () => {
    expect(renderInventory(answers, { schemaRef: './schema/inventory.schema.json' })).toBe(
      `# yaml-language-server: $schema=./schema/inventory.schema.json

# A kubeforge inventory, written by \`kubeforge init\`. inventory.example.yaml in the kubeforge
# package documents every field; fields left out take the defaults it names.
# Relative paths start from this file's directory; ~ is your home directory.
# Secrets are never written here: only the NAMES of environment variables that hold them.

cluster:
  name: demo # DNS-1123 label: lowercase letters, digits and "-"

kubernetes:
  version: 1.30.2
  # Tarball with bin/kubeadm, bin/kubelet (and bin/kubectl), installed on every host.
  bundle: ./bundles/kubernetes-1.30.2-linux-amd64.tar.gz
  # Image archives imported into containerd's k8s.io namespace on every host (offline installs).
  images:
    - ./bundles/images.tar
    - url: https://example.com/pause.tar
      sha256: abababababababababababababababababababababababababababababababab
  # true when the hosts reach no registry: kubeforge then checks that the archives hold every image
  # kubeadm, the sandbox image and the network add-on need.
  offline: false
  # Defaults: podSubnet 10.244.0.0/16, serviceSubnet 10.96.0.0/12, clusterDomain cluster.local,
  # controlPlaneEndpoint <init host>:6443. With several control planes, set controlPlaneEndpoint to a
  # load balancer, or controlPlaneVip: {address, interface} for a built-in virtual IP (kube-vip).

# No network add-on (network.manifest): nodes stay NotReady until you apply one yourself.
containerd:
  bundle: /srv/containerd.tar.gz # the containerd release tarball
  version: 1.7.20 # the bundle's file name does not tell it

relay: # hosts pass bundles on to each other: this machine sends about one copy
  enabled: true # false: every host gets its copy from this machine

ssh: # for every host; a host may override any of these under its own ssh:
  user: root
  port: 22
  keyFile: ~/.ssh/id_ed25519
  agent: false # only keyFile; true also tries the ssh-agent at $SSH_AUTH_SOCK
  knownHostsFile: ./known_hosts
  sudoPasswordEnv: KUBEFORGE_SUDO_PASSWORD # sudo asks for a password on some hosts

hosts:
  # hostname cp1, Debian GNU/Linux 12 (bookworm), x86_64, systemd, logs in as root
  - name: cp1
    address: 10.0.0.10
    role: control-plane # the first control plane runs kubeadm init
  # KEPT DESPITE: w1.example.com: ETIMEDOUT
  - name: "2024"
    address: w1.example.com
    role: worker
    internalAddress: 10.0.0.11 # the IP the node advertises to the cluster
    ssh:
      user: admin
      port: 2222
`,
    );
  });

  it('passes the inventory schema, for every way of logging in', () => {
    for (const auth of [{ kind: 'agent' }, { kind: 'password', passwordEnv: 'PW' }, { kind: 'key', keyFile: 'k', passphraseEnv: 'PP' }] as const) {
      const value = parse(renderInventory({ ...answers, ssh: { ...answers.ssh, auth } }, { schemaRef: 's.json' })) as unknown;
      const result = inventorySchema.safeParse(value);
      expect(result.error?.issues ?? []).toEqual([]);
    }
  });

  const withNodeBundles: InitAnswers = {
    ...answers,
    kubernetes: {
      ...answers.kubernetes,
      offline: true,
      criTools: { path: './bundles/crictl-v1.30.0-linux-amd64.tar.gz' },
      cniPlugins: { url: 'https://example.com/cni-plugins-linux-amd64-v1.5.1.tgz', sha256: 'cd'.repeat(32) },
    },
    network: { manifest: { path: './bundles/kube-flannel.yml' } },
    osPackages: { bundle: { path: './bundles/os-packages-debian12-amd64.tar' } },
  };

  it('writes crictl, the CNI plugins, the network add-on and the OS packages as inventory.example.yaml does, with comments', () => {
    const text = renderInventory(withNodeBundles, { schemaRef: 's.json' });
    expect(text).toContain(
      [
        '  offline: true',
        '  # cri-tools release tarball (crictl at its top level) -> /usr/local/bin/crictl; kubeadm needs crictl.',
        '  criTools: ./bundles/crictl-v1.30.0-linux-amd64.tar.gz',
        '  # containernetworking-plugins release tarball (bridge, loopback, ...) -> /opt/cni/bin.',
        '  cniPlugins:',
        '    url: https://example.com/cni-plugins-linux-amd64-v1.5.1.tgz',
        `    sha256: ${'cd'.repeat(32)}`,
        '  # Defaults: podSubnet 10.244.0.0/16, serviceSubnet 10.96.0.0/12, clusterDomain cluster.local,',
        '  # controlPlaneEndpoint <init host>:6443. With several control planes, set controlPlaneEndpoint to a',
        '  # load balancer, or controlPlaneVip: {address, interface} for a built-in virtual IP (kube-vip).',
        '',
        '# The network add-on, applied once with kubectl after kubeadm init.',
        'network:',
        "  # The add-on's manifest as published (kube-flannel.yml, calico.yaml, ...); the pod CIDRs it",
        '  # configures must equal kubernetes.podSubnet.',
        '  manifest: ./bundles/kube-flannel.yml',
        '',
        'containerd:',
        '  bundle: /srv/containerd.tar.gz # the containerd release tarball',
        "  version: 1.7.20 # the bundle's file name does not tell it",
        '',
        'osPackages: # packages kubeadm and the kubelet need (iptables, conntrack, socat, ...)',
        '  # A tarball of .deb files (with their dependencies) installed on every host that reaches no',
        '  # package repository.',
        '  bundle: ./bundles/os-packages-debian12-amd64.tar',
        '',
        'relay: # hosts pass bundles on to each other: this machine sends about one copy',
        '  enabled: true # false: every host gets its copy from this machine',
        '',
        'ssh: # for every host; a host may override any of these under its own ssh:',
      ].join('\n'),
    );
    expect(text).not.toContain('No network add-on');
    const value = parse(text) as Record<string, Record<string, unknown>>;
    expect(inventorySchema.safeParse(value).error?.issues ?? []).toEqual([]);
    // The same sections, in the same order, as the documented example.
    const example = parse(readFileSync(new URL('../../../inventory.example.yaml', import.meta.url), 'utf8')) as Record<string, Record<string, unknown>>;
    expect(Object.keys(value)).toEqual(Object.keys(example));
    const order = Object.keys(example.kubernetes!);
    const written = Object.keys(value.kubernetes!);
    expect(written).toEqual(order.filter((k) => written.includes(k)));
  });

  it('says when the hosts must bring kubeadm themselves', () => {
    const text = renderInventory({ ...answers, kubernetes: { version: '1.31.0', images: [] } }, { schemaRef: 's.json' });
    expect(text).toContain('  version: 1.31.0 # no bundle: kubeadm and the kubelet of this version must be installed on the hosts\n');
    expect(text).not.toContain('images');
  });

  it('points editors at the schema relatively when it sits below the inventory, else absolutely', () => {
    expect(schemaReference('/work/kubeforge/schema/inventory.schema.json', '/work/kubeforge')).toBe('./schema/inventory.schema.json');
    expect(schemaReference('/usr/lib/node_modules/kubeforge/schema/inventory.schema.json', '/home/me/clusters')).toBe(
      '/usr/lib/node_modules/kubeforge/schema/inventory.schema.json',
    );
  });
});
