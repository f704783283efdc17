// The OpenSSH client config as loadInventory reads it: which file, what it resolves, where its
// problems are reported, and the bastions a host is reached through.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InputErrors } from '../errors.js';
import { makeInventoryFixture, type InventoryFixture } from '../../test/inventories/fixtures.js';
import { loadInventory } from './index.js';

const BASE = `cluster:
  name: demo
kubernetes:
  version: 1.30.2
containerd:
  bundle: bundles/containerd-1.7.20-linux-amd64.tar.gz
network:
  manifest: bundles/kube-flannel.yml
`;

let fixture: InventoryFixture;
beforeEach(() => {
  fixture = makeInventoryFixture();
});
afterEach(() => fixture.remove());

function write(name: string, text: string): string {
  const path = join(fixture.dir, name);
  writeFileSync(path, text);
  return path;
}

async function messages(path: string): Promise<string[]> {
  const error = await loadInventory(path, { env: fixture.env }).then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof InputErrors)) throw new Error(`expected InputErrors, got ${String(error)}`);
  return error.errors.map((e) => e.message);
}

describe('ssh config in loadInventory', () => {
  it('reads ~/.ssh/config by default: an alias address dials its HostName, settings say where they came from', async () => {
    const config = join(fixture.home, '.ssh', 'config');
    writeFileSync(config, 'Host cp1-alias\n  HostName 10.0.0.10\n  User admin\n  IdentityFile ~/.ssh/id_ed25519\n');
    const path = write('inventory.yaml', `${BASE}hosts:\n  - name: cp1\n    address: cp1-alias\n    internalAddress: 10.0.0.10\n    role: control-plane\n`);
    const { cluster } = await loadInventory(path, { env: fixture.env });
    const host = cluster.hosts[0]!;
    expect(host.address).toBe('10.0.0.10');
    expect(host.ssh).toMatchObject({ user: 'admin', keyFile: join(fixture.home, '.ssh', 'id_ed25519') });
    expect(host.sshSources).toMatchObject({
      address: { value: '10.0.0.10', from: `ssh config ${config}:2` },
      user: { value: 'admin', from: `ssh config ${config}:3` },
      port: { value: '22', from: 'default' },
    });
  });

  it('an alias whose HostName is an IP needs no internalAddress; one resolving to a name does, and said so', async () => {
    const config = write('ssh_config', 'Host cp\n  HostName 10.0.0.10\nHost w\n  HostName w1.example.com\nHost twin\n  HostName 10.0.0.10\n');
    const ok = write('ok.yaml', `${BASE}ssh:\n  keyFile: keys/id_ed25519\n  configFile: ssh_config\nhosts:\n  - { name: cp1, address: cp, role: control-plane }\n`);
    const { cluster } = await loadInventory(ok, { env: fixture.env });
    expect(cluster.hosts[0]).toMatchObject({ address: '10.0.0.10', internalAddress: '10.0.0.10' });

    const bad = write(
      'bad.yaml',
      `${BASE}ssh:\n  keyFile: keys/id_ed25519\n  configFile: ssh_config\nhosts:\n  - { name: cp1, address: cp, role: control-plane }\n` +
        `  - { name: w1, address: w, role: worker }\n  - { name: w2, address: twin, role: worker }\n`,
    );
    expect(await messages(bad)).toEqual([
      `${bad}:14:26: hosts[1].address: w resolves to w1.example.com (ssh config ${config}:4), which is a DNS name and internalAddress is not set; Kubernetes needs the node's IP address`,
      `${bad}:15:26: hosts[2].address: twin resolves to 10.0.0.10 (ssh config ${config}:6), which is also the internal address of host cp1`,
    ]);
  });

  it('a named configFile that does not exist is an input error at its line; none reads nothing', async () => {
    const missing = write('inventory.yaml', `${BASE}ssh:\n  keyFile: keys/id_ed25519\n  configFile: ./no-such-config\nhosts:\n  - { name: cp1, address: 10.0.0.10, role: control-plane }\n`);
    expect(await messages(missing)).toEqual([`${missing}:11:15: ssh.configFile: cannot read the ssh config ${join(fixture.dir, 'no-such-config')}: no such file`]);

    writeFileSync(join(fixture.home, '.ssh', 'config'), 'Host *\n  User from-config\n');
    const none = write('none.yaml', `${BASE}ssh:\n  keyFile: keys/id_ed25519\n  configFile: none\nhosts:\n  - { name: cp1, address: 10.0.0.10, role: control-plane }\n`);
    const { cluster } = await loadInventory(none, { env: fixture.env });
    expect(cluster.hosts[0]!.ssh.user).toBe('root');
  });

  it('reports a bad value in the ssh config at the config file line, and at the host it was read for', async () => {
    const config = write('ssh_config', 'Host *\n  Port twenty\n');
    const path = write('inventory.yaml', `${BASE}ssh:\n  keyFile: keys/id_ed25519\n  configFile: ssh_config\nhosts:\n  - { name: cp1, address: 10.0.0.10, role: control-plane }\n`);
    expect(await messages(path)).toEqual([`${path}:13:27: ssh config ${config}:2: Port "twenty" is not a port number (1 to 65535)`]);
  });

  it('a missing IdentityFile named by the ssh config is reported at the config line', async () => {
    const config = write('ssh_config', 'Host *\n  IdentityFile ~/.ssh/nope\n');
    const path = write('inventory.yaml', `${BASE}ssh:\n  configFile: ssh_config\n  agent: false\nhosts:\n  - { name: cp1, address: 10.0.0.10, role: control-plane }\n`);
    const found = await messages(path);
    expect(found).toHaveLength(1);
    expect(found[0]).toContain(`ssh config ${config}:2: IdentityFile:`);
  });

  it('resolves each bastion of a chain: chain values, then its ssh config, then the top-level ssh settings', async () => {
    write('ssh_config', 'Host outer\n  HostName 192.0.2.1\n  Port 2201\nHost *\n  ConnectTimeout 3\n');
    const path = write(
      'inventory.yaml',
      `${BASE}ssh:\n  user: ops\n  port: 2222\n  keyFile: keys/id_ed25519\n  configFile: ssh_config\n  knownHostsFile: ./kh\n  acceptNewHostKeys: true\n` +
        `hosts:\n  - name: cp1\n    address: 10.0.0.10\n    role: control-plane\n    ssh:\n      proxyJump: outer, jumper@10.1.0.1:22\n` +
        `  - name: w1\n    address: 10.0.0.11\n    role: worker\n`,
    );
    const { cluster } = await loadInventory(path, { env: fixture.env });
    const [cp1, w1] = cluster.hosts;
    expect(cp1!.ssh.port).toBe(2222);
    expect(cp1!.ssh.proxyJump?.map((j) => [j.label, j.address, j.ssh.user, j.ssh.port, j.ssh.keyFile, j.ssh.knownHostsFile, j.ssh.connectTimeoutMs, j.ssh.acceptNewHostKeys])).toEqual([
      ['ops@outer:2201', '192.0.2.1', 'ops', 2201, join(fixture.dir, 'keys', 'id_ed25519'), join(fixture.dir, 'kh'), 3000, true],
      ['jumper@10.1.0.1:22', '10.1.0.1', 'jumper', 22, join(fixture.dir, 'keys', 'id_ed25519'), join(fixture.dir, 'kh'), 3000, true],
    ]);
    expect(cp1!.sshSources?.proxyJump).toEqual({ value: 'ops@outer:2201,jumper@10.1.0.1:22', from: 'inventory hosts[0].ssh.proxyJump' });
    expect(w1!.ssh.proxyJump).toBeUndefined();
  });

  it('warns that an Include is not followed, at the config line', async () => {
    const config = write('ssh_config', '# first\nInclude ~/.ssh/config.d/*\n');
    const path = write('inventory.yaml', `${BASE}ssh:\n  keyFile: keys/id_ed25519\n  configFile: ssh_config\nhosts:\n  - { name: cp1, address: 10.0.0.10, role: control-plane }\n`);
    const { warnings } = await loadInventory(path, { env: fixture.env });
    expect(warnings).toEqual([`${path}:11:15: ssh config ${config}:2: Include ~/.ssh/config.d/* is not followed by kubeforge; settings in that file are not read`]);
  });

  it('a bastion with no way to log in is an input error, once', async () => {
    const path = write(
      'inventory.yaml',
      `${BASE}ssh:\n  agent: false\n  configFile: none\n  proxyJump: jump@10.1.0.1\n` +
        `hosts:\n  - { name: cp1, address: 10.0.0.10, role: control-plane, ssh: { keyFile: keys/id_ed25519 } }\n  - { name: w1, address: 10.0.0.11, role: worker, ssh: { keyFile: keys/id_ed25519 } }\n`,
    );
    expect(await messages(path)).toEqual([`${path}:12:14: ssh.proxyJump: bastion jump@10.1.0.1:22 (for host cp1) has no way to log in: no key file, no ssh-agent, no password`]);
  });

  it("reaches the first bastion through its own ProxyJump from the ssh config, as ssh does; a loop is an input error", async () => {
    write('ssh_config', 'Host inner\n  ProxyJump edge\nHost edge\n  ProxyJump outer\nHost node-*\n  ProxyJump inner,last\nHost last\n  ProxyJump ignored\n');
    const path = write('inventory.yaml', `${BASE}ssh:\n  keyFile: keys/id_ed25519\n  configFile: ssh_config\nhosts:\n  - { name: cp1, address: node-1, internalAddress: 10.0.0.10, role: control-plane }\n`);
    const { cluster } = await loadInventory(path, { env: fixture.env });
    expect(cluster.hosts[0]!.ssh.proxyJump?.map((j) => j.label)).toEqual(['root@outer:22', 'root@edge:22', 'root@inner:22', 'root@last:22']);

    const loop = write('ssh_config', 'Host a\n  ProxyJump b\nHost b\n  ProxyJump a\n');
    const looping = write('loop.yaml', `${BASE}ssh:\n  keyFile: keys/id_ed25519\n  configFile: ssh_config\n  proxyJump: a\nhosts:\n  - { name: cp1, address: 10.0.0.10, role: control-plane }\n`);
    expect(await messages(looping)).toEqual([`${looping}:12:14: ssh.proxyJump: ssh config ${loop}:2: the ProxyJump chain through a → b → a loops or is longer than 8 bastions`]);
  });

  it('rejects a malformed proxyJump in the inventory at its value', async () => {
    const path = write('inventory.yaml', `${BASE}ssh:\n  keyFile: keys/id_ed25519\n  proxyJump: "admin@[fd00::1"\nhosts:\n  - { name: cp1, address: 10.0.0.10, role: control-plane }\n`);
    const found = await messages(path);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(/:11:14: ssh\.proxyJump: "admin@\[fd00::1" is not a ProxyJump: hop "admin@\[fd00::1" /);
  });
});
