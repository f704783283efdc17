// A cluster of test hosts that stub playbooks run against: what is tested is everything around
// the steps (connections, progress, failures), not what the steps install. The cluster phase
// finds an initialised control plane and joined workers (kubeadm's files put there beforehand).
import fs from 'node:fs/promises';
import path from 'node:path';
import { stringify } from 'yaml';
import type { Fleet } from '../hosts/fleet.js';
import type { TestHost } from '../hosts/host.js';
import type { InventoryFixture } from '../inventories/fixtures.js';

/**
 * Writes DIR/playbooks: `prepare` has one step, prepare/work, that runs `script` on every host
 * (or, with `sendsContainerdBundle`, sends the containerd bundle); the other playbooks are stubs.
 */
export async function writeStubPlaybooks(dir: string, script: string, opts: { sendsContainerdBundle?: boolean } = {}): Promise<string> {
  const playbooks = path.join(dir, 'playbooks');
  await fs.mkdir(playbooks, { recursive: true });
  const step = opts.sendsContainerdBundle
    ? `  - id: work\n    title: send the containerd bundle\n    bundles: [containerd]\n    run: ${JSON.stringify(script)}\n`
    : `  - id: work\n    title: the stub step\n    verifyOnly: true\n    verify: |\n${script.split('\n').map((l) => `      ${l}`).join('\n')}\n`;
  await fs.writeFile(path.join(playbooks, 'prepare.yaml'), `name: prepare\nsteps:\n${step}`);
  for (const name of ['containerd', 'kubernetes']) {
    await fs.writeFile(path.join(playbooks, `${name}.yaml`), `name: ${name}\nsteps:\n  - { id: nothing, title: nothing, verifyOnly: true, verify: "true" }\n`);
  }
  return playbooks;
}

/**
 * kubeadm's files on each host, as if init (first host) and joins had happened, and on the first
 * host a STAND-IN kubectl (in its private /usr/local/bin) for the stub cluster's API server: `up`
 * reads an existing cluster's versions before it changes anything (the upgrade skew check), and
 * this answers exactly those reads — /readyz, kubeadm-config at `version`, every host a Ready
 * node at `version` — and refuses anything else, so a test that makes `up` write to the cluster
 * still fails loudly.
 */
export async function markAsCluster(hosts: TestHost[], version = '1.30.2'): Promise<void> {
  const cp = hosts[0]!;
  await Promise.all(
    hosts.map((host) =>
      host.exec(
        `mkdir -p /etc/kubernetes && printf 'apiVersion: v1\\nkind: Config\\n' > /etc/kubernetes/admin.conf && ` +
          `printf 'apiVersion: v1\\nkind: Config\\nclusters:\\n- cluster:\\n    server: https://${cp.address}:6443\\n' > /etc/kubernetes/kubelet.conf`,
      ),
    ),
  );
  // Node names as writeStubInventory gives them, for one fleet and for several.
  const names = hosts.flatMap((h) => [h.name, `${h.name}-${h.address.split('.').pop()}`]);
  const node = (name: string) => ({
    metadata: { name },
    spec: {},
    status: { nodeInfo: { kubeletVersion: `v${version}` }, conditions: [{ type: 'Ready', status: 'True' }] },
  });
  const configMap = { data: { ClusterConfiguration: `apiVersion: kubeadm.k8s.io/v1beta3\nkind: ClusterConfiguration\nkubernetesVersion: v${version}\n` } };
  const nodes = { kind: 'List', items: names.map(node) };
  const stub = `#!/bin/sh
# STAND-IN kubectl of the e2e stub cluster (test/e2e/stub-cluster.ts): answers only the reads
# kubeforge up makes of an existing cluster before it changes anything.
args=" $* "
case "$args" in
  *" get --raw /readyz "*) echo ok ;;
  *" get --raw /api/v1/namespaces/kube-system/configmaps/kubeadm-config "*) cat <<'KF_EOF'
${JSON.stringify(configMap)}
KF_EOF
  ;;
  *" get nodes -o json "*) cat <<'KF_EOF'
${JSON.stringify(nodes)}
KF_EOF
  ;;
  *) echo "stub-cluster kubectl stand-in: not modelled: kubectl $*" >&2; exit 1 ;;
esac
`;
  await cp.exec(`mkdir -p /usr/local/bin && cat > /usr/local/bin/kubectl && chmod 755 /usr/local/bin/kubectl`, { input: stub });
}

export interface StubInventoryOptions {
  /** More inventory entries after the hosts (hostile peers, hosts behind one sshd, ...). */
  extraHosts?: Array<Record<string, unknown>>;
  /** Merged into the inventory's ssh section (connectTimeout, keepaliveInterval, ...). */
  ssh?: Record<string, unknown>;
  /** A real containerd bundle instead of the fixture's stub file. */
  containerd?: { bundle: string; version: string };
}

/**
 * DIR/inventory.yaml for `hosts` (the first the control plane) with the fixture's stub bundles.
 * Hosts may come from several fleets: known_hosts then holds every fleet's keys, each host logs
 * in with its fleet's client key, and names are made unique with the address's last octet.
 */
export async function writeStubInventory(
  fleets: Fleet | Fleet[],
  fixture: InventoryFixture,
  dir: string,
  hosts: TestHost[],
  opts: StubInventoryOptions = {},
): Promise<string> {
  const all = Array.isArray(fleets) ? fleets : [fleets];
  const bundles = path.join(fixture.dir, 'bundles');
  const knownHosts = path.join(dir, 'known_hosts');
  await fs.writeFile(knownHosts, (await Promise.all(all.map((f) => fs.readFile(f.knownHosts, 'utf8')))).join(''), { mode: 0o600 });
  const fleetOf = (h: TestHost) => all.find((f) => f.hosts.includes(h))!;
  const inventory = path.join(dir, 'inventory.yaml');
  await fs.writeFile(
    inventory,
    stringify({
      cluster: { name: 'stub' },
      kubernetes: {
        version: '1.30.2',
        bundle: path.join(bundles, 'kubernetes-1.30.2-linux-amd64.tar.gz'),
        images: [path.join(bundles, 'images.tar')],
        offline: false,
        criTools: path.join(bundles, 'crictl-v1.30.0-linux-amd64.tar.gz'),
      },
      containerd: opts.containerd ?? { bundle: path.join(bundles, 'containerd-1.7.20-linux-amd64.tar.gz'), version: '1.7.20' },
      ssh: { user: 'root', agent: false, knownHostsFile: knownHosts, connectTimeout: '5s', ...(all.length === 1 ? { keyFile: all[0]!.clientKey } : {}), ...opts.ssh },
      hosts: [
        ...hosts.map((h, i) => ({
          name: all.length === 1 ? h.name : `${h.name}-${h.address.split('.').pop()}`,
          address: h.address,
          role: i === 0 ? 'control-plane' : 'worker',
          ...(all.length === 1 ? {} : { ssh: { keyFile: fleetOf(h).clientKey } }),
        })),
        ...(opts.extraHosts ?? []),
      ],
    }),
  );
  return inventory;
}
