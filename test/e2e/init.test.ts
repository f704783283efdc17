// `kubeforge init` end to end: the real CLI in a pseudo-terminal, answering its questions as a
// person would, against 3 full hosts whose keys are not known yet; then `kubeforge up` with
// the inventory it wrote. Also: a refused host key is not recorded, Ctrl-C leaves no file, and
// the same inventory can be built from flags alone without a terminal. The hosts reach no
// registry and no package mirror: the answers name the node artifacts (kubeadm's images, crictl,
// the CNI plugins, a Flannel-shaped add-on and the OS packages bundle), as a real offline user's would.
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { supportedKubernetesMinors } from '../../src/commands/init/defaults.js';
import { loadInventory } from '../../src/inventory/index.js';
import { fingerprintOf } from '../../src/ssh/index.js';
import { buildArtifacts, type Artifacts } from '../hosts/artifacts.js';
import { startFleet, type Fleet } from '../hosts/fleet.js';
import type { TestHost } from '../hosts/host.js';
import type { NodeArtifacts } from '../hosts/node-artifacts.js';
import { KEYS, PtySession } from '../hosts/pty.js';
import { CLI, e2eUnavailableReason, kubeforge } from './support.js';

const unavailable = e2eUnavailableReason();

interface Inventory {
  cluster: { name: string };
  kubernetes: Record<string, unknown>;
  network?: Record<string, unknown>;
  containerd: Record<string, unknown>;
  osPackages?: Record<string, unknown>;
  ssh: Record<string, unknown>;
  hosts: Array<{ name: string; address: string; role: string }>;
}

describe.skipIf(unavailable)('kubeforge init on 3 full hosts', () => {
  let fleet: Fleet;
  let artifacts: Artifacts;
  let node: NodeArtifacts;
  let dir: string;

  beforeAll(async () => {
    [fleet, artifacts] = await Promise.all([startFleet({ full: 3 }), buildArtifacts('1.30.2')]);
    if (!artifacts.node) throw new Error('buildArtifacts built no node artifacts');
    node = artifacts.node;
    dir = await mkdtemp(path.join(os.tmpdir(), 'kf-init-'));
  });

  afterAll(async () => {
    await fleet?.destroy();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** A home directory of its own: the fleet's client key as ~/.ssh/id_ed25519, no known_hosts yet. */
  async function newHome(name: string): Promise<{ home: string; env: NodeJS.ProcessEnv; knownHosts: string }> {
    const home = path.join(dir, name);
    await mkdir(path.join(home, '.ssh'), { recursive: true, mode: 0o700 });
    await copyFile(fleet.clientKey, path.join(home, '.ssh', 'id_ed25519'));
    const env: NodeJS.ProcessEnv = { ...process.env, HOME: home };
    delete env.SSH_AUTH_SOCK;
    return { home, env, knownHosts: path.join(home, '.ssh', 'known_hosts') };
  }

  /** What both ways of running the wizard write about the artifacts (all absolute paths). */
  const expectedArtifacts = () => ({
    kubernetes: {
      version: '1.30.2',
      bundle: artifacts.kubernetesBundle,
      // kubeadm's images (and the add-on's): the hosts reach no registry.
      images: [node.kubeadmImageArchive],
      offline: true,
      criTools: node.criTools,
      cniPlugins: node.cniPlugins,
    },
    network: { manifest: node.flannelManifest },
    containerd: { bundle: artifacts.containerdBundle },
    osPackages: { bundle: node.osPackagesBundle },
  });

  const fingerprint = (h: TestHost) => fingerprintOf(Buffer.from(h.record.hostKeyPublic.split(' ')[1]!, 'base64'));

  /** The questions before the hosts, answered with the test artifacts. */
  async function answerUpToHosts(term: PtySession): Promise<void> {
    await term.answer('Cluster name', 'e2e-init');
    await term.answer('Kubernetes bundle', artifacts.kubernetesBundle);
    // Its file name does not carry the version: pick 1.30 from the list, then the release.
    await term.waitFor('Kubernetes version');
    term.type(KEYS.down.repeat(supportedKubernetesMinors().indexOf('1.30')));
    await term.answer('1.30.x', '');
    await term.answer('Kubernetes 1.30 release', '1.30.2');
    await term.answer('Image archive for every host', node.kubeadmImageArchive);
    await term.answer('empty when done', '');
    await term.answer("the hosts' only source of images", 'y');
    await term.answer('containerd bundle', artifacts.containerdBundle);
    await term.answer('cri-tools release tarball', node.criTools);
    await term.answer('CNI plugins tarball', node.cniPlugins);
    await term.answer('Network add-on manifest (kube-flannel.yml, calico.yaml); without one nodes stay NotReady', node.flannelManifest);
    await term.answer('OS packages bundle', node.osPackagesBundle);
    await term.answer('SSH user on the hosts', '');
    await term.answer('How does kubeforge log in?', ''); // the first choice: ~/.ssh/id_ed25519
  }

  it('builds the inventory in a terminal, asking before trusting each host key, and `kubeforge up` accepts it', async () => {
    const { env, knownHosts } = await newHome('home-wizard');
    const file = path.join(dir, 'wizard', 'inventory.yaml');
    await mkdir(path.dirname(file));
    // Run where the inventory goes, as a newcomer would: `kubeforge init` writes ./inventory.yaml.
    const term = new PtySession(process.execPath, [CLI, 'init'], { cwd: path.dirname(file), env });
    try {
      await answerUpToHosts(term);
      for (const [i, host] of fleet.full.entries()) {
        await term.answer(i === 0 ? 'Address of the first host' : `Address of host ${i + 1}`, host.address);
        // The key is shown, and nothing is recorded before the answer.
        await term.waitFor(`ssh-ed25519 ${fingerprint(host)}`);
        await term.waitFor('Trust this key and record it in');
        expect(await readFile(knownHosts, 'utf8').catch(() => '')).not.toContain(host.record.hostKeyPublic);
        term.type('y' + KEYS.enter);
        await term.waitFor(`hostname ${host.name}, Debian GNU/Linux 12 (bookworm), x86_64, systemd, logs in as root`);
        await term.answer(`Node name of ${host.address} (${host.name})`, '');
        await term.answer(`Role of ${host.name}`, '');
      }
      await term.answer('Address of host 4 (empty when done)', '');
      await term.waitFor('kubeforge up -i inventory.yaml');
      expect(await term.exited, term.screen()).toBe(0);
    } finally {
      term.close();
    }

    const text = await readFile(file, 'utf8');
    expect(text.split('\n')[0]).toMatch(/^# yaml-language-server: \$schema=.*schema\/inventory\.schema\.json$/);
    const written = parseYaml(text) as Inventory;
    expect({ kubernetes: written.kubernetes, network: written.network, containerd: written.containerd, osPackages: written.osPackages }).toEqual(expectedArtifacts());
    expect(text).toContain('  # cri-tools release tarball (crictl at its top level) -> /usr/local/bin/crictl');
    expect(written.hosts).toEqual([
      { name: 'full-1', address: fleet.full[0]!.address, role: 'control-plane' },
      { name: 'full-2', address: fleet.full[1]!.address, role: 'worker' },
      { name: 'full-3', address: fleet.full[2]!.address, role: 'worker' },
    ]);
    expect(written.ssh).toEqual({ user: 'root', port: 22, keyFile: '~/.ssh/id_ed25519', agent: false });
    expect(text).toContain('  # hostname full-2, Debian GNU/Linux 12 (bookworm), x86_64, systemd, logs in as root\n  - name: full-2\n');
    // Exactly the three accepted keys, in OpenSSH's format.
    expect((await readFile(knownHosts, 'utf8')).trim().split('\n').sort()).toEqual(fleet.full.map((h) => `${h.address} ${h.record.hostKeyPublic}`).sort());

    const up = await kubeforge(['up', '-i', file], { env });
    expect(up.code, up.stdout + up.stderr).toBe(0);
    for (const h of fleet.full) expect(up.stdout).toMatch(new RegExp(`^${h.name}\\s+\\S+\\s+ok\\s`, 'm'));
  });

  it('records nothing for a refused host key, and Ctrl-C leaves no inventory and no temporary file', async () => {
    const { env, knownHosts } = await newHome('home-refuse');
    const workDir = path.join(dir, 'refuse');
    await mkdir(workDir);
    const file = path.join(workDir, 'inventory.yaml');
    const host = fleet.full[0]!;
    const term = new PtySession(process.execPath, [CLI, 'init', file], { cwd: workDir, env });
    try {
      await answerUpToHosts(term);
      await term.answer('Address of the first host', host.address);
      await term.waitFor(fingerprint(host));
      await term.answer('Trust this key', 'n');
      await term.waitFor('was not trusted; nothing was recorded');
      await term.waitFor(`What about ${host.address}?`);
      term.type(KEYS.down.repeat(2)); // fix, keep, drop
      await term.answer('drop this host', '');
      await term.waitFor(`dropped ${host.address}`);
      await term.waitFor('Address of the first host');
      await new Promise((r) => setTimeout(r, 100));
      term.type(KEYS.ctrlC);
      await term.waitFor('interrupted: nothing was written');
      expect(await term.exited).toBe(130);
    } finally {
      term.close();
    }
    expect(await readFile(knownHosts, 'utf8').catch(() => '')).not.toContain(host.record.hostKeyPublic);
    expect(await readdir(workDir)).toEqual([]);
  });

  it('builds the same inventory from flags alone without a terminal, and fails fast without them', async () => {
    const { env, knownHosts } = await newHome('home-flags');
    const file = path.join(dir, 'flags', 'inventory.yaml');
    await mkdir(path.dirname(file));
    const args = [
      'init', 'inventory.yaml', '--yes',
      '--name', 'e2e-init',
      ...fleet.full.flatMap((h) => ['--host', h.address]),
      '--key', '~/.ssh/id_ed25519',
      '--accept-new-host-keys',
      '--kubernetes-bundle', artifacts.kubernetesBundle,
      '--kubernetes-version', '1.30.2',
      '--image', node.kubeadmImageArchive,
      '--offline',
      '--containerd-bundle', artifacts.containerdBundle,
      '--cri-tools', node.criTools,
      '--cni-plugins', node.cniPlugins,
      '--network-manifest', node.flannelManifest,
      '--os-packages', node.osPackagesBundle,
    ];
    const built = await kubeforge(args, { env, cwd: path.dirname(file) });
    expect(built.code, built.stdout + built.stderr).toBe(0);
    expect(built.stdout).toContain('kubeforge up -i inventory.yaml');

    // What the wizard test answers in the terminal, given as flags instead.
    expect(parseYaml(await readFile(file, 'utf8'))).toEqual({
      cluster: { name: 'e2e-init' },
      ...expectedArtifacts(),
      relay: { enabled: true },
      ssh: { user: 'root', port: 22, keyFile: '~/.ssh/id_ed25519', agent: false },
      hosts: fleet.full.map((h, i) => ({ name: h.name, address: h.address, role: i === 0 ? 'control-plane' : 'worker' })),
    });
    expect((await readFile(knownHosts, 'utf8')).trim().split('\n')).toHaveLength(3);
    const { cluster } = await loadInventory(file, { env });
    expect(cluster.hosts.map((h) => [h.name, h.role])).toEqual([
      ['full-1', 'control-plane'],
      ['full-2', 'worker'],
      ['full-3', 'worker'],
    ]);

    // Again without --force: the file exists and is left alone.
    const again = await kubeforge(args, { env, cwd: path.dirname(file) });
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('inventory.yaml: exists');

    // No terminal and no --yes: a clear error at once, not a prompt waiting forever.
    const started = Date.now();
    const bare = await kubeforge(['init', path.join(dir, 'flags', 'other.yaml')], { env, timeoutMs: 30_000 });
    expect(bare.code).toBe(2);
    expect(bare.stderr).toContain('error: kubeforge init: needs a terminal to ask its questions, and none is attached');
    expect(Date.now() - started).toBeLessThan(10_000);
    const missing = await kubeforge(['init', path.join(dir, 'flags', 'other.yaml'), '--yes'], { env });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/--host: is required with --yes[\s\S]*--containerd-bundle: is required with --yes/);
    expect(await readdir(path.join(dir, 'flags'))).toEqual(['inventory.yaml']);
  });
});
