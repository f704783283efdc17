// A cluster of test hosts that stub playbooks run against: what is tested is everything around
// the steps (connections, progress, failures), not what the steps install. The cluster phase
// finds an initialised control plane and joined workers (kubeadm's files put there beforehand).
import fs from 'node:fs/promises';
import path from 'node:path';
import { stringify } from 'yaml';
import type { Fleet } from '../hosts/fleet.js';
import type { TestHost } from '../hosts/host.js';
import type { InventoryFixture } from '../inventories/fixtures.js';

/** Writes DIR/playbooks with `prepare` running `script` on every host, and stub other playbooks. */
export async function writeStubPlaybooks(dir: string, script: string): Promise<string> {
  const playbooks = path.join(dir, 'playbooks');
  await fs.mkdir(playbooks, { recursive: true });
  await fs.writeFile(
    path.join(playbooks, 'prepare.yaml'),
    `name: prepare\nsteps:\n  - id: work\n    title: the stub step\n    verifyOnly: true\n    verify: |\n${script.split('\n').map((l) => `      ${l}`).join('\n')}\n`,
  );
  for (const name of ['containerd', 'kubernetes']) {
    await fs.writeFile(path.join(playbooks, `${name}.yaml`), `name: ${name}\nsteps:\n  - { id: nothing, title: nothing, verifyOnly: true, verify: "true" }\n`);
  }
  return playbooks;
}

/** kubeadm's files on each host, as if init (first host) and joins had happened. */
export async function markAsCluster(hosts: TestHost[]): Promise<void> {
  const cp = hosts[0]!;
  await Promise.all(
    hosts.map((host) =>
      host.exec(
        `mkdir -p /etc/kubernetes && printf 'apiVersion: v1\\nkind: Config\\n' > /etc/kubernetes/admin.conf && ` +
          `printf 'apiVersion: v1\\nkind: Config\\nclusters:\\n- cluster:\\n    server: https://${cp.address}:6443\\n' > /etc/kubernetes/kubelet.conf`,
      ),
    ),
  );
}

/** An inventory of `hosts` (the first the control plane) with the fixture's stub bundles. */
export async function writeStubInventory(
  fleet: Fleet,
  fixture: InventoryFixture,
  dir: string,
  hosts: TestHost[],
  extraHosts: Array<Record<string, unknown>> = [],
): Promise<string> {
  const bundles = path.join(fixture.dir, 'bundles');
  const knownHosts = path.join(dir, 'known_hosts');
  await fs.copyFile(fleet.knownHosts, knownHosts);
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
      containerd: { bundle: path.join(bundles, 'containerd-1.7.20-linux-amd64.tar.gz'), version: '1.7.20' },
      ssh: { user: 'root', keyFile: fleet.clientKey, agent: false, knownHostsFile: knownHosts, connectTimeout: '5s' },
      hosts: [...hosts.map((h, i) => ({ name: h.name, address: h.address, role: i === 0 ? 'control-plane' : 'worker' })), ...extraHosts],
    }),
  );
  return inventory;
}
