// The wizard driven through its real inquirer prompts (rendered by @inquirer/testing), with a
// fake prober standing in for SSH: what is asked, what typing wrong answers shows, what each
// choice about a problem host does, and that the result loads as `kubeforge up` loads it.
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ssh2 from 'ssh2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InputError, KubeforgeError } from '../../errors.js';
import { loadInventory } from '../../inventory/index.js';
import type { SshSettings } from '../../model.js';
import { renderInventory } from './document.js';
import type { HostFacts } from './facts.js';
import type { ProbeOutcome, ProbeRequest, Prober } from './probe.js';
import { answer, answerAfterError, choose, confirmWith, scriptedPrompts, type Step } from '../../../test/support/prompt-script.js';
import { defaultAnswers } from './prompts.js';
import { runWizard, type Preset, type WizardDeps } from './wizard.js';

const { utils } = ssh2;

const facts = (hostname: string, more: Partial<HostFacts> = {}): HostFacts => ({
  kernel: 'Linux',
  arch: 'x86_64',
  hostname,
  os: 'Debian GNU/Linux 12 (bookworm)',
  systemd: true,
  sudo: 'root',
  machineId: `id-of-${hostname}`,
  ...more,
});

type FakeHost =
  | { facts: HostFacts; unknownKey?: boolean }
  | { problem: Extract<ProbeOutcome, { ok: false }>['problem'] }
  /** Different outcomes per user (for "fix: log in as another user"). */
  | { byUser: Record<string, FakeHost> };

/** Answers probes from a table; a host with unknownKey asks about its key first, as connect() would. */
function fakeProber(table: Record<string, FakeHost>): Prober & { calls: ProbeRequest[] } {
  const calls: ProbeRequest[] = [];
  const probe = async (req: ProbeRequest): Promise<ProbeOutcome> => {
    calls.push(req);
    const entry = table[req.address];
    const host = entry && 'byUser' in entry ? entry.byUser[req.settings.user] : entry;
    if (!host || 'byUser' in host) return { ok: false, problem: { kind: 'unreachable', message: `${req.address}: EHOSTUNREACH`, hint: 'is the host up?' } };
    if ('problem' in host) return { ok: false, problem: host.problem };
    if (host.unknownKey && !req.settings.acceptNewHostKeys) {
      const trusted = await req.askHostKey!({
        name: req.name,
        host: req.address,
        port: req.port,
        keyType: 'ssh-ed25519',
        fingerprint: 'SHA256:abcdefFAKEfingerprint',
        knownHostsFile: req.settings.knownHostsFile,
      });
      if (!trusted) return { ok: false, problem: { kind: 'host-key', message: `${req.address}: host key ssh-ed25519 SHA256:abcdefFAKEfingerprint was not trusted; nothing was recorded` } };
    }
    return { ok: true, facts: host.facts };
  };
  return Object.assign(probe, { calls });
}

/** A Flannel-shaped add-on manifest configuring this pod network. */
const flannel = (network: string) =>
  [
    'apiVersion: v1',
    'kind: ConfigMap',
    'metadata: { name: kube-flannel-cfg, namespace: kube-flannel }',
    'data:',
    `  net-conf.json: '{"Network": "${network}", "Backend": {"Type": "vxlan"}}'`,
    '---',
    'apiVersion: apps/v1',
    'kind: DaemonSet',
    'metadata: { name: kube-flannel-ds, namespace: kube-flannel }',
    'spec:',
    '  template:',
    '    spec:',
    '      containers: [{ name: kube-flannel, image: docker.io/flannel/flannel:v0.25.5 }]',
    '',
  ].join('\n');

describe('the init wizard', () => {
  let dir: string;
  let home: string;
  let key: string;
  let encryptedKey: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kf-wizard-'));
    home = join(dir, 'home');
    await mkdir(join(home, '.ssh'), { recursive: true });
    key = join(home, '.ssh', 'id_ed25519');
    await writeFile(key, utils.generateKeyPairSync('ed25519').private, { mode: 0o600 });
    encryptedKey = join(dir, 'locked_ed25519');
    await writeFile(encryptedKey, utils.generateKeyPairSync('ed25519', { passphrase: 'open sesame', cipher: 'aes256-cbc', rounds: 2 }).private, { mode: 0o600 });
    for (const file of [
      'kubernetes-1.30.2-linux-amd64.tar.gz',
      'containerd-1.7.20-linux-amd64.tar.gz',
      'not-images.tar',
      'crictl-v1.30.0-linux-amd64.tar.gz',
      'cni-plugins-linux-amd64-v1.5.1.tgz',
      'os-packages-debian12-amd64.tar',
    ]) {
      await writeFile(join(dir, file), 'not really a tarball: the wizard only checks that it can be read');
    }
    // Network add-on manifests are read: they must parse, and their pod CIDR must be the inventory's.
    await writeFile(join(dir, 'kube-flannel.yml'), flannel('10.244.0.0/16'));
    await writeFile(join(dir, 'other-cidr.yml'), flannel('192.168.0.0/16'));
    await writeFile(join(dir, 'broken.yml'), 'kind: ConfigMap\n  data: [\n');
    // Image archives are read: the images they name are what `up` checks for on every host.
    await mkdir(join(dir, 'image'));
    await writeFile(join(dir, 'image', 'manifest.json'), JSON.stringify([{ Config: 'c.json', RepoTags: ['example.com/app:1'], Layers: [] }]));
    execFileSync('tar', ['-cf', join(dir, 'images.tar'), '-C', join(dir, 'image'), 'manifest.json']);
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  function deps(prompts: WizardDeps['prompts'], probe: Prober | undefined, preset: Preset = {}, extra: Partial<WizardDeps> = {}) {
    const said: string[] = [];
    const d: WizardDeps = {
      prompts,
      preset,
      paths: { cwd: dir, inventoryDir: dir, home },
      env: { HOME: home },
      foundKeys: [key],
      ...(probe ? { probe } : {}),
      say: (line) => said.push(line),
      ...extra,
    };
    return { deps: d, said };
  }

  /** The common first questions, up to the hosts. */
  const upToHosts = (): Step[] => [
    answer('Cluster name', 'demo'),
    answer('Kubernetes bundle', 'kubernetes-1.30.2-linux-amd64.tar.gz'),
    answer('Kubernetes version', ''),
    answer('Image archive', ''),
    answer('containerd bundle', 'containerd-1.7.20-linux-amd64.tar.gz'),
    ...noNodeBundles(),
    answer('SSH user', ''),
    answer('How does kubeforge log in?', ''),
  ];

  /** The optional node bundles, all left empty. */
  const noNodeBundles = (): Step[] => [
    answer('cri-tools release tarball', ''),
    answer('CNI plugins tarball', ''),
    answer('Network add-on manifest', ''),
    answer('OS packages bundle', ''),
  ];

  it('asks everything, checks typed answers, trusts a host key on yes, and the result loads as `up` loads it', async () => {
    const prober = fakeProber({ '10.0.0.1': { facts: facts('node-a'), unknownKey: true }, '10.0.0.2': { facts: facts('node-b') } });
    const prompts = scriptedPrompts([
      answerAfterError('Cluster name', 'My_Cluster', '"My_Cluster" is not a DNS-1123 label', 'demo'),
      answerAfterError('Kubernetes bundle', 'https://', '"https://" is not an http:// or https:// URL', 'kubernetes-1.30.2-linux-amd64.tar.gz'),
      choose('Kubernetes version', "1.30.2 (the bundle's version)"),
      answerAfterError('Image archive for every host', 'not-images.tar', 'is not a usable image archive', 'images.tar'),
      answer('empty when done', ''),
      confirmWith("Are these archives the hosts' only source of images", false),
      answerAfterError('containerd bundle', 'nope.tar.gz', `file ${join(dir, 'nope.tar.gz')} does not exist`, 'containerd-1.7.20-linux-amd64.tar.gz'),
      ...noNodeBundles(),
      answer('SSH user on the hosts (root)', ''),
      choose('How does kubeforge log in?', 'key ~/.ssh/id_ed25519'),
      answerAfterError('Address of the first host', '10.0.0.300', '"10.0.0.300" is not an IPv4 address, IPv6 address or DNS name', '10.0.0.1'),
      confirmWith('Trust this key and record it in', true),
      answer('Node name of 10.0.0.1 (node-a)', ''),
      choose('Role of node-a', 'control-plane'),
      answerAfterError('Address of host 2 (empty when done)', '10.0.0.1', '10.0.0.1 port 22 is already host node-a', '10.0.0.2'),
      answerAfterError('Node name of 10.0.0.2 (node-b)', 'node-a', 'there is already a host named node-a', 'worker-b'),
      answer('Role of worker-b', ''),
      answer('Address of host 3 (empty when done)', ''),
    ]);
    const { deps: d, said } = deps(prompts, prober);
    const answers = await runWizard(d);

    expect(prompts.remaining()).toBe(0);
    expect(answers).toEqual({
      clusterName: 'demo',
      kubernetes: { version: '1.30.2', bundle: { path: './kubernetes-1.30.2-linux-amd64.tar.gz' }, images: [{ path: './images.tar' }], offline: false },
      containerd: { bundle: { path: './containerd-1.7.20-linux-amd64.tar.gz' } },
      ssh: { user: 'root', port: 22, auth: { kind: 'key', keyFile: '~/.ssh/id_ed25519' } },
      hosts: [
        { name: 'node-a', address: '10.0.0.1', role: 'control-plane', checked: 'hostname node-a, Debian GNU/Linux 12 (bookworm), x86_64, systemd, logs in as root', kept: [] },
        { name: 'worker-b', address: '10.0.0.2', role: 'worker', checked: 'hostname node-b, Debian GNU/Linux 12 (bookworm), x86_64, systemd, logs in as root', kept: [] },
      ],
    });
    // The fingerprint is shown before the question; the role default follows "first host is the control plane".
    expect(said).toContain('    ssh-ed25519 SHA256:abcdefFAKEfingerprint');
    expect(said).toContain('  hostname node-a, Debian GNU/Linux 12 (bookworm), x86_64, systemd, logs in as root');
    expect(prompts.transcript).toContain('✔ Role of worker-b worker');
    // Probing logs in as `up` will: the inventory's key, user, port and known_hosts.
    const settings: SshSettings = prober.calls[0]!.settings;
    expect(settings).toMatchObject({ user: 'root', port: 22, keyFile: key, knownHostsFile: join(home, '.ssh', 'known_hosts'), acceptNewHostKeys: false });

    const file = join(dir, 'inventory.yaml');
    await writeFile(file, renderInventory(answers, { schemaRef: './schema.json' }));
    const { cluster } = await loadInventory(file, { env: { HOME: home } });
    expect(cluster.hosts.map((h) => [h.name, h.role, h.ssh.keyFile])).toEqual([
      ['node-a', 'control-plane', key],
      ['worker-b', 'worker', key],
    ]);
    expect(cluster.kubernetes.images.map((b) => b.path)).toEqual([join(dir, 'images.tar')]);
  });

  it('asks for crictl, the CNI plugins, the network add-on and the OS packages, checked like the other bundles', async () => {
    const sha = 'ab'.repeat(32);
    const prompts = scriptedPrompts([
      answer('Cluster name', ''),
      answer('Kubernetes bundle', 'kubernetes-1.30.2-linux-amd64.tar.gz'),
      answer('Kubernetes version', ''),
      answer('Image archive', ''),
      answer('containerd bundle', 'containerd-1.7.20-linux-amd64.tar.gz'),
      answerAfterError('cri-tools release tarball: crictl, which kubeadm needs', 'crictl.tgz', `file ${join(dir, 'crictl.tgz')} does not exist`, 'crictl-v1.30.0-linux-amd64.tar.gz'),
      answerAfterError('CNI plugins tarball', 'ftp://example.com/cni.tgz', 'is not an http:// or https:// URL', 'https://example.com/cni-plugins-linux-amd64-v1.5.1.tgz'),
      answerAfterError('SHA-256 of cni-plugins-linux-amd64-v1.5.1.tgz', 'abc', 'a SHA-256 checksum is 64 hex digits', sha.toUpperCase()),
      answerAfterError(
        // (The screen is 80 columns wide: the question wraps.)
        /Network add-on manifest \(kube-flannel\.yml, calico\.yaml\); without one nodes\s+stay NotReady/,
        'other-cidr.yml',
        /is not the inventory's podSubnet 10\.244\.0\.0\/16\s+\(kubeforge's default\):\s+net-conf\.json "Network" is\s+192\.168\.0\.0\/16;\s+edit\s+the\s+manifest/,
        'kube-flannel.yml',
      ),
      answer(/OS packages bundle: a tarball of \.deb files, for hosts without a\s+package\s+mirror/, 'os-packages-debian12-amd64.tar'),
      answer('SSH user', ''),
      answer('How does kubeforge log in?', ''),
      answer('Address of the first host', '10.0.0.1'),
      answer('Node name', ''),
      answer('Role of', ''),
      answer('Address of host 2', ''),
    ]);
    const answers = await runWizard(deps(prompts, fakeProber({ '10.0.0.1': { facts: facts('a') } })).deps);
    expect(prompts.remaining()).toBe(0);
    expect(answers).toMatchObject({
      kubernetes: {
        images: [],
        criTools: { path: './crictl-v1.30.0-linux-amd64.tar.gz' },
        cniPlugins: { url: 'https://example.com/cni-plugins-linux-amd64-v1.5.1.tgz', sha256: sha },
      },
      network: { manifest: { path: './kube-flannel.yml' } },
      osPackages: { bundle: { path: './os-packages-debian12-amd64.tar' } },
    });
    // No archives: nothing to ask about offline, and nothing written.
    expect(answers.kubernetes.offline).toBeUndefined();

    // Written where inventory.example.yaml has them, and loaded as `up` loads them (the local ones).
    const local = { ...answers, kubernetes: { ...answers.kubernetes, cniPlugins: { path: './cni-plugins-linux-amd64-v1.5.1.tgz' } } };
    const text = renderInventory(local, { schemaRef: './schema.json' });
    expect(text).toContain(
      [
        '  # cri-tools release tarball (crictl at its top level) -> /usr/local/bin/crictl; kubeadm needs crictl.',
        '  criTools: ./crictl-v1.30.0-linux-amd64.tar.gz',
        '  # containernetworking-plugins release tarball (bridge, loopback, ...) -> /opt/cni/bin.',
        '  cniPlugins: ./cni-plugins-linux-amd64-v1.5.1.tgz',
      ].join('\n'),
    );
    expect(text).toContain('\n# The network add-on, applied once with kubectl after kubeadm init.\nnetwork:\n');
    expect(text).toContain('osPackages: # packages kubeadm and the kubelet need (iptables, conntrack, socat, ...)\n');
    const file = join(dir, 'node-bundles.yaml');
    await writeFile(file, text);
    const { cluster, warnings } = await loadInventory(file, { env: { HOME: home } });
    expect(cluster.kubernetes.criTools?.path).toBe(join(dir, 'crictl-v1.30.0-linux-amd64.tar.gz'));
    expect(cluster.kubernetes.cniPlugins?.path).toBe(join(dir, 'cni-plugins-linux-amd64-v1.5.1.tgz'));
    expect(cluster.network).toMatchObject({ manifest: { path: join(dir, 'kube-flannel.yml') }, podCidrs: ['10.244.0.0/16'] });
    expect(cluster.osPackages.bundle?.path).toBe(join(dir, 'os-packages-debian12-amd64.tar'));
    expect(warnings.join('\n')).not.toContain('no network add-on');
  });

  it('says a manifest that is not YAML is not an add-on manifest, and asks whether image archives are all the hosts have', async () => {
    const prompts = scriptedPrompts([
      answer('Cluster name', ''),
      answer('Kubernetes bundle', 'kubernetes-1.30.2-linux-amd64.tar.gz'),
      answer('Kubernetes version', ''),
      answer('Image archive', 'images.tar'),
      answer('empty when done', ''),
      confirmWith("Are these archives the hosts' only source of images", true),
      answer('containerd bundle', 'containerd-1.7.20-linux-amd64.tar.gz'),
      answer('cri-tools release tarball', ''),
      answer('CNI plugins tarball', ''),
      answerAfterError('Network add-on manifest', 'broken.yml', `not a usable network add-on manifest: ${join(dir, 'broken.yml')}:`, ''),
      answer('OS packages bundle', ''),
      answer('SSH user', ''),
      answer('How does kubeforge log in?', ''),
      answer('Address of the first host', '10.0.0.1'),
      answer('Node name', ''),
      answer('Role of', ''),
      answer('Address of host 2', ''),
    ]);
    const answers = await runWizard(deps(prompts, undefined).deps);
    expect(prompts.remaining()).toBe(0);
    expect(answers.kubernetes).toEqual({ version: '1.30.2', bundle: { path: './kubernetes-1.30.2-linux-amd64.tar.gz' }, images: [{ path: './images.tar' }], offline: true });
    expect(answers.network).toBeUndefined();
    expect(answers.osPackages).toBeUndefined();
    const text = renderInventory(answers, { schemaRef: './schema.json' });
    expect(text).toContain('  offline: true\n');
    expect(text).toContain('# No network add-on (network.manifest): nodes stay NotReady until you apply one yourself.\ncontainerd:\n');
  });

  it('offers fix, keep or drop for a host with problems, and does what was chosen', async () => {
    const prober = fakeProber({
      '10.0.0.1': { facts: facts('cp') },
      // No systemd and an arm64 machine for an amd64 bundle: kept, with both problems recorded.
      '10.0.0.2': { facts: facts('pi', { systemd: false, arch: 'aarch64' }) },
      '10.0.0.3': { problem: { kind: 'unreachable', message: '10.0.0.3: EHOSTUNREACH' } },
      // Refuses root; "fix" with another user works.
      '10.0.0.4': {
        byUser: {
          root: { problem: { kind: 'auth', message: '10.0.0.4: the host refused every credential offered (publickey)' } },
          admin: { facts: facts('w4', { sudo: 'password' }) },
        },
      },
      // Same hostname and /etc/machine-id as 10.0.0.1, under another address: dropped.
      'cp.example.com': { facts: facts('cp') },
      '10.0.0.6': { facts: facts('w6'), unknownKey: true },
    });
    const prompts = scriptedPrompts([
      ...upToHosts(),
      answer('Address of the first host', '10.0.0.1'),
      answer('Node name', ''),
      answer('Role of cp', ''),
      answer('Address of host 2', '10.0.0.2'),
      choose('What about 10.0.0.2?', 'keep it as it is'),
      answer('Node name of 10.0.0.2 (pi)', ''),
      answer('Role of pi', ''),
      answer('Address of host 3', '10.0.0.3'),
      choose('What about 10.0.0.3?', 'drop this host'),
      answer('Address of host 3', '10.0.0.4'),
      choose('What about 10.0.0.4?', 'fix it'),
      answer('Address (10.0.0.4)', ''),
      answer('SSH user for 10.0.0.4 (root)', 'admin'),
      answer('Node name of 10.0.0.4 (w4)', ''),
      answer('Role of w4', ''),
      answer('Address of host 4', 'cp.example.com'),
      choose('What about cp.example.com?', 'drop this host'),
      answer('Address of host 4', '10.0.0.6'),
      confirmWith('Trust this key', false),
      choose('What about 10.0.0.6?', 'drop this host'),
      answer('Address of host 4', ''),
    ]);
    const { deps: d, said } = deps(prompts, prober);
    const answers = await runWizard(d);
    expect(prompts.remaining()).toBe(0);

    expect(answers.hosts.map((h) => h.name)).toEqual(['cp', 'pi', 'w4']);
    expect(answers.hosts[1]!.kept).toEqual([
      'systemd is not running (no /run/systemd/system); kubeforge needs systemd to run containerd and the kubelet',
      'the containerd bundle containerd-1.7.20-linux-amd64.tar.gz is for amd64, this host is aarch64 (arm64)',
      'the Kubernetes bundle kubernetes-1.30.2-linux-amd64.tar.gz is for amd64, this host is aarch64 (arm64)',
    ]);
    // The user that worked is kept for that host only; its sudo needs a password, so the inventory names the variable.
    expect(answers.hosts[2]).toMatchObject({ address: '10.0.0.4', user: 'admin', kept: [] });
    expect(answers.ssh.sudoPasswordEnv).toBe('KUBEFORGE_SUDO_PASSWORD');
    expect(said).toContain('  problem: 10.0.0.3: EHOSTUNREACH');
    expect(said).toContain('  problem: this looks like host cp again (same hostname cp and /etc/machine-id)');
    expect(said).toContain('  problem: 10.0.0.6: host key ssh-ed25519 SHA256:abcdefFAKEfingerprint was not trusted; nothing was recorded');
    expect(said).toContain('  dropped 10.0.0.6');

    const text = renderInventory(answers, { schemaRef: './schema.json' });
    expect(text).toContain(
      [
        '  # hostname pi, Debian GNU/Linux 12 (bookworm), aarch64, no systemd, logs in as root',
        '  # KEPT DESPITE: systemd is not running (no /run/systemd/system); kubeforge needs systemd to run containerd and the kubelet',
      ].join('\n'),
    );
    expect(text).toContain(['  - name: w4', '    address: 10.0.0.4', '    role: worker', '    ssh:', '      user: admin'].join('\n'));
  });

  it('takes clones (one machine-id, their own hostnames) as the different machines they are', async () => {
    const prompts = scriptedPrompts([
      ...upToHosts(),
      answer('Address of the first host', '10.0.0.1'),
      answer('Node name', ''),
      answer('Role of', ''),
      answer('Address of host 2', '10.0.0.2'),
      answer('Node name of 10.0.0.2 (b)', ''),
      answer('Role of', ''),
      answer('Address of host 3', ''),
    ]);
    const prober = fakeProber({ '10.0.0.1': { facts: facts('a', { machineId: 'cloned' }) }, '10.0.0.2': { facts: facts('b', { machineId: 'cloned' }) } });
    const { deps: d, said } = deps(prompts, prober);
    expect((await runWizard(d)).hosts.map((h) => h.name)).toEqual(['a', 'b']);
    expect(said.filter((l) => l.includes('problem'))).toEqual([]);
  });

  it('will not finish without a control plane', async () => {
    const prompts = scriptedPrompts([
      ...upToHosts(),
      answer('Address of the first host', '10.0.0.1'),
      answer('Node name', ''),
      choose('Role of', 'worker'),
      answerAfterError('Address of host 2', '', 'no host is a control plane yet', '10.0.0.2'),
      answer('Node name', ''),
      answer('Role of', ''),
      answer('Address of host 3', ''),
    ]);
    const answers = await runWizard(deps(prompts, fakeProber({ '10.0.0.1': { facts: facts('a') }, '10.0.0.2': { facts: facts('b') } })).deps);
    expect(answers.hosts.map((h) => [h.name, h.role])).toEqual([
      ['a', 'worker'],
      ['b', 'control-plane'],
    ]);
  });

  it('asks the passphrase of an encrypted key for probing only, and writes the name of its variable', async () => {
    const prober = fakeProber({ '10.0.0.1': { facts: facts('a') } });
    const prompts = scriptedPrompts([
      ...upToHosts().slice(0, -1),
      choose('How does kubeforge log in?', 'another private key file'),
      answerAfterError('Private key file', 'images.tar', 'is readable by group or others', 'locked_ed25519'),
      answer('The key is encrypted', ''),
      answerAfterError('Passphrase of ./locked_ed25519', 'wrong', 'this passphrase does not open', 'open sesame'),
      answer('Address of the first host', '10.0.0.1'),
      answer('Node name', ''),
      answer('Role of', ''),
      answer('Address of host 2', ''),
    ]);
    const answers = await runWizard(deps(prompts, prober).deps);
    expect(answers.ssh.auth).toEqual({ kind: 'key', keyFile: './locked_ed25519', passphraseEnv: 'KUBEFORGE_KEY_PASSPHRASE' });
    expect(prober.calls[0]!.settings).toMatchObject({ keyFile: encryptedKey, passphrase: 'open sesame' });
    expect(renderInventory(answers, { schemaRef: 's.json' })).not.toContain('open sesame');
  });

  it('asks for the IP a host added by DNS name advertises, offering what the name resolves to', async () => {
    const prompts = scriptedPrompts([
      ...upToHosts(),
      answer('Address of the first host', 'cp.example.com:2222'),
      answer('Node name of cp.example.com (a)', ''),
      answer('Role of a', ''),
      answerAfterError('IP address of a on the cluster network (10.9.9.9)', 'cp.example.com', 'is not an IPv4 or IPv6 address', '10.9.9.10'),
      answer('Address of host 2', ''),
    ]);
    const { deps: d } = deps(prompts, fakeProber({ 'cp.example.com': { facts: facts('a') } }), {}, { resolveAddress: async () => '10.9.9.9' });
    const answers = await runWizard(d);
    expect(answers.hosts).toEqual([
      {
        name: 'a',
        address: 'cp.example.com',
        port: 2222,
        role: 'control-plane',
        internalAddress: '10.9.9.10',
        checked: 'hostname a, Debian GNU/Linux 12 (bookworm), x86_64, systemd, logs in as root',
        kept: [],
      },
    ]);
  });

  describe('with --yes (nobody to ask)', () => {
    const preset = (more: Preset = {}): Preset => ({
      kubernetesBundle: 'kubernetes-1.30.2-linux-amd64.tar.gz',
      containerdBundle: 'containerd-1.7.20-linux-amd64.tar.gz',
      key: key,
      hosts: [{ address: '10.0.0.1' }, { address: '10.0.0.2', name: 'second' }],
      ...more,
    });

    it('builds the inventory from flags and defaults alone', async () => {
      const prober = fakeProber({ '10.0.0.1': { facts: facts('alpha'), unknownKey: true }, '10.0.0.2': { facts: facts('beta') } });
      const answers = await runWizard(deps(defaultAnswers(), prober, preset({ acceptNewHostKeys: true, images: ['images.tar'] })).deps);
      expect(answers).toMatchObject({
        clusterName: 'kubeforge',
        kubernetes: { version: '1.30.2', images: [{ path: './images.tar' }] },
        // The key lives below the inventory's directory in this test, so it is named relative to it.
        ssh: { user: 'root', auth: { kind: 'key', keyFile: './home/.ssh/id_ed25519' } },
      });
      expect(answers.hosts.map((h) => [h.name, h.address, h.role])).toEqual([
        ['alpha', '10.0.0.1', 'control-plane'],
        ['second', '10.0.0.2', 'worker'],
      ]);
      expect(prober.calls[0]!.settings.acceptNewHostKeys).toBe(true);
    });

    it('takes the node bundles and --offline from flags, in both bundle forms', async () => {
      const sha = 'cd'.repeat(32);
      const answers = await runWizard(
        deps(
          defaultAnswers(),
          undefined,
          preset({
            images: ['images.tar'],
            offline: true,
            criTools: 'crictl-v1.30.0-linux-amd64.tar.gz',
            cniPlugins: `https://example.com/cni-plugins-linux-amd64-v1.5.1.tgz@sha256:${sha.toUpperCase()}`,
            networkManifest: 'kube-flannel.yml',
            osPackages: 'os-packages-debian12-amd64.tar',
          }),
        ).deps,
      );
      expect(answers).toMatchObject({
        kubernetes: {
          images: [{ path: './images.tar' }],
          offline: true,
          criTools: { path: './crictl-v1.30.0-linux-amd64.tar.gz' },
          cniPlugins: { url: 'https://example.com/cni-plugins-linux-amd64-v1.5.1.tgz', sha256: sha },
        },
        network: { manifest: { path: './kube-flannel.yml' } },
        osPackages: { bundle: { path: './os-packages-debian12-amd64.tar' } },
      });
      // Without the flags: none of them, and archives not declared the only source of images.
      const plain = await runWizard(deps(defaultAnswers(), undefined, preset({ images: ['images.tar'] })).deps);
      expect(plain.kubernetes).toEqual({ version: '1.30.2', bundle: { path: './kubernetes-1.30.2-linux-amd64.tar.gz' }, images: [{ path: './images.tar' }], offline: false });
      expect(plain).not.toHaveProperty('network');
      expect(plain).not.toHaveProperty('osPackages');
    });

    it('rejects a wrong node bundle flag with the flag named, and --offline without archives', async () => {
      await expect(runWizard(deps(defaultAnswers(), undefined, preset({ criTools: 'nope.tgz' })).deps)).rejects.toThrow(`--cri-tools: file ${join(dir, 'nope.tgz')} does not exist`);
      await expect(runWizard(deps(defaultAnswers(), undefined, preset({ cniPlugins: 'https://example.com/cni.tgz' })).deps)).rejects.toThrow(
        '--cni-plugins URL@sha256:HEX: no answer for "SHA-256 of cni.tgz',
      );
      await expect(runWizard(deps(defaultAnswers(), undefined, preset({ networkManifest: 'other-cidr.yml' })).deps)).rejects.toThrow(
        `--network-manifest: the manifest's pod CIDR is not the inventory's podSubnet 10.244.0.0/16 (kubeforge's default): net-conf.json "Network" is 192.168.0.0/16; edit the manifest to use 10.244.0.0/16`,
      );
      await expect(runWizard(deps(defaultAnswers(), undefined, preset({ osPackages: 'ftp://mirror/os.tar' })).deps)).rejects.toThrow(
        '--os-packages: "ftp://mirror/os.tar" is not an http:// or https:// URL',
      );
      const offline = runWizard(deps(defaultAnswers(), undefined, preset({ offline: true })).deps);
      await expect(offline).rejects.toThrow(InputError);
      await expect(offline).rejects.toThrow('--offline: needs image archives');
    });

    it("checks crictl's and the CNI plugins' architecture against each host", async () => {
      const arm = fakeProber({ '10.0.0.1': { facts: facts('a', { arch: 'aarch64' }) } });
      const failed = runWizard(
        deps(defaultAnswers(), arm, preset({ kubernetesBundle: '', kubernetesVersion: '1.30.2', containerdBundle: 'containerd-1.7.20-linux-amd64.tar.gz', criTools: 'crictl-v1.30.0-linux-amd64.tar.gz', cniPlugins: 'cni-plugins-linux-amd64-v1.5.1.tgz', hosts: [{ address: '10.0.0.1' }] })).deps,
      );
      await expect(failed).rejects.toThrow(/the cri-tools bundle crictl-v1\.30\.0-linux-amd64\.tar\.gz is for amd64, this host is aarch64 \(arm64\)\n.*the CNI plugins bundle cni-plugins-linux-amd64-v1\.5\.1\.tgz is for amd64/);
    });

    it('fails on a host problem instead of offering choices, naming the flag that helps', async () => {
      const unknownKey = runWizard(deps(defaultAnswers(), fakeProber({ '10.0.0.1': { facts: facts('a'), unknownKey: true } }), preset()).deps);
      await expect(unknownKey).rejects.toThrow(KubeforgeError);
      await expect(unknownKey).rejects.toMatchObject({
        message: '10.0.0.1: host key ssh-ed25519 SHA256:abcdefFAKEfingerprint was not trusted; nothing was recorded',
        hint: expect.stringContaining('--accept-new-host-keys'),
      });
      const unreachable = runWizard(deps(defaultAnswers(), fakeProber({}), preset()).deps);
      await expect(unreachable).rejects.toMatchObject({ message: '10.0.0.1: EHOSTUNREACH (is the host up?)', hint: expect.stringContaining('--no-probe') });
      const noSystemd = runWizard(deps(defaultAnswers(), fakeProber({ '10.0.0.1': { facts: facts('a', { systemd: false }) } }), preset()).deps);
      await expect(noSystemd).rejects.toThrow(/^10\.0\.0\.1: systemd is not running/);
    });

    it('rejects a wrong flag value with the flag named', async () => {
      const wrongName = runWizard(deps(defaultAnswers(), undefined, preset({ clusterName: 'Not_A_Label' })).deps);
      await expect(wrongName).rejects.toThrow(InputError);
      await expect(wrongName).rejects.toThrow('--name: "Not_A_Label" is not a DNS-1123 label');
      const duplicate = runWizard(deps(defaultAnswers(), undefined, preset({ hosts: [{ address: '10.0.0.1' }, { address: '10.0.0.1' }] })).deps);
      await expect(duplicate).rejects.toThrow('--host: 10.0.0.1 port 22 is already host cp1');
      const noKey = runWizard(deps(defaultAnswers(), undefined, { ...preset(), key: undefined }, { foundKeys: [] }).deps);
      await expect(noKey).rejects.toThrow('--key: no answer for "Private key file"');
    });

    it('without probing, names hosts after their role', async () => {
      const answers = await runWizard(deps(defaultAnswers(), undefined, preset({ hosts: [{ address: '10.0.0.1' }, { address: '10.0.0.2' }, { address: '10.0.0.3', role: 'worker' }] })).deps);
      expect(answers.hosts.map((h) => [h.name, h.role, h.checked])).toEqual([
        ['cp1', 'control-plane', undefined],
        ['worker1', 'worker', undefined],
        ['worker2', 'worker', undefined],
      ]);
    });
  });
});
