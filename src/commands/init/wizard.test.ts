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
    for (const file of ['kubernetes-1.30.2-linux-amd64.tar.gz', 'containerd-1.7.20-linux-amd64.tar.gz', 'not-images.tar']) {
      await writeFile(join(dir, file), 'not really a tarball: the wizard only checks that it can be read');
    }
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
    answer('SSH user', ''),
    answer('How does kubeforge log in?', ''),
  ];

  it('asks everything, checks typed answers, trusts a host key on yes, and the result loads as `up` loads it', async () => {
    const prober = fakeProber({ '10.0.0.1': { facts: facts('node-a'), unknownKey: true }, '10.0.0.2': { facts: facts('node-b') } });
    const prompts = scriptedPrompts([
      answerAfterError('Cluster name', 'My_Cluster', '"My_Cluster" is not a DNS-1123 label', 'demo'),
      answerAfterError('Kubernetes bundle', 'https://', '"https://" is not an http:// or https:// URL', 'kubernetes-1.30.2-linux-amd64.tar.gz'),
      choose('Kubernetes version', "1.30.2 (the bundle's version)"),
      answerAfterError('Image archive for every host', 'not-images.tar', 'is not a usable image archive', 'images.tar'),
      answer('empty when done', ''),
      answerAfterError('containerd bundle', 'nope.tar.gz', `file ${join(dir, 'nope.tar.gz')} does not exist`, 'containerd-1.7.20-linux-amd64.tar.gz'),
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
      kubernetes: { version: '1.30.2', bundle: { path: './kubernetes-1.30.2-linux-amd64.tar.gz' }, images: [{ path: './images.tar' }] },
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
