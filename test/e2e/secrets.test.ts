// Secrets never leak, and files get the modes they must have: `kubeforge up` on 3 full hosts,
// TWO control planes (so a certificate key is made and used) and a worker, logging in with a
// key that has a passphrase, and on the second control plane as an ordinary user whose sudo
// asks for a password. While it runs, every host's process list is sampled ~10 times a second.
// Then everything the run produced is searched for the join token, the certificate key, the
// key passphrase and the sudo password: the CLI's output, every file beside the inventory
// (ledger, admin.conf), every file written on each host's disk (its overlay upper layer), its
// tmpfs mounts, its journal (with every logged process' command line), and the process samples.
//
// Deliberately NOT searched: the kubeadm stand-in's log (/var/log/kubeadm-standin.log) and state
// (/var/lib/kubeadm-standin/), which record tokens and keys on purpose as the test oracle (see
// test/hosts/standins/README.md). That is where the token and key are read from, and the search
// is shown to find them there.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parse as parseYaml, stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildArtifacts, type Artifacts } from '../hosts/artifacts.js';
import { run } from '../hosts/exec.js';
import { startFleet, type Fleet } from '../hosts/fleet.js';
import type { TestHost } from '../hosts/host.js';
import { writeFleetInventory } from '../hosts/inventory.js';
import { PS_SAMPLES_FILE, startPsSampler, stopPsSampler, type PsSamples } from '../hosts/ps-sampler.js';
import { addUser } from '../hosts/users.js';
import { findSecrets, searchTree, type Finding, type Secret } from './secret-search.js';
import { e2eUnavailableReason, kubeforge } from './support.js';

const unavailable = e2eUnavailableReason();

const PASSPHRASE = `pass'phrase "with" $(touch /tmp/pwned-pp) \`id\`; and spaces`;
const SUDO_PASSWORD = `sudo'pw "x" $(touch /tmp/pwned-sudo) \`id\`; ok`;
const SUDO_USER = 'kfsecret';

/** The stand-in's own records: the oracle, which holds the secrets on purpose. */
const ORACLE_FILES = ['var/log/kubeadm-standin.log', 'var/lib/kubeadm-standin'];

describe.skipIf(unavailable)('secrets and file modes: up on 2 control planes + 1 worker, passphrase key, sudo password', () => {
  let fleet: Fleet;
  let artifacts: Artifacts;
  let dir: string;
  let inventoryDir: string;
  let result: { code: number; stdout: string; stderr: string };
  let samples: Map<string, PsSamples>;
  let secrets: Secret[];

  beforeAll(async () => {
    [fleet, artifacts] = await Promise.all([startFleet({ full: 3 }), buildArtifacts('1.30.2')]);
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'kf-secrets-'));
    const key = path.join(dir, 'client_with_passphrase');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', PASSPHRASE, '-C', 'kf-secrets-test', '-f', key]);
    const publicKey = (await fs.readFile(`${key}.pub`, 'utf8')).trim();
    const [cp1, cp2, worker] = fleet.full as [TestHost, TestHost, TestHost];
    for (const host of [cp1, worker]) await host.exec(`printf '%s\\n' '${publicKey}' >> /root/.ssh/authorized_keys`);
    await addUser(cp2, { name: SUDO_USER, sudo: 'password', password: SUDO_PASSWORD, authorizedKeys: [publicKey] });

    inventoryDir = path.join(dir, 'inventory');
    const file = await writeFleetInventory(fleet, inventoryDir, {
      artifacts,
      controlPlanes: 2,
      clusterName: 'sec',
      overrides: { ssh: { user: 'root', keyFile: key, passphraseEnv: 'KF_TEST_PASSPHRASE', agent: false, knownHostsFile: path.join(inventoryDir, 'known_hosts') } },
    });
    const doc = parseYaml(await fs.readFile(file, 'utf8')) as { hosts: Array<Record<string, unknown>> };
    doc.hosts[1]!.ssh = { user: SUDO_USER, sudoPasswordEnv: 'KF_TEST_SUDO_PASSWORD' };
    await fs.writeFile(file, stringify(doc));

    await Promise.all(fleet.full.map(startPsSampler));
    const started = Date.now();
    result = await kubeforge(['up', '-i', file], { env: { KF_TEST_PASSPHRASE: PASSPHRASE, KF_TEST_SUDO_PASSWORD: SUDO_PASSWORD } });
    console.log(`FIGURE up on 2 control planes + 1 worker (passphrase, sudo password): ${((Date.now() - started) / 1000).toFixed(1)} s`);
    samples = new Map(await Promise.all(fleet.full.map(async (h) => [h.name, await stopPsSampler(h)] as const)));

    const state = JSON.parse(await cp1.sh('cat /var/lib/kubeadm-standin/state.json')) as { tokens: Array<{ token: string }>; certificateKey: string | null };
    secrets = [
      ...state.tokens.map((t, i) => ({ name: `join token ${i + 1}`, value: t.token })),
      { name: 'certificate key', value: state.certificateKey ?? '' },
      { name: 'key passphrase', value: PASSPHRASE },
      { name: 'sudo password', value: SUDO_PASSWORD },
    ];
  });

  afterAll(async () => {
    await fleet?.destroy();
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  it('brings up the cluster: init, a control-plane join with the certificate key, a worker join', async () => {
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(secrets.find((s) => s.name === 'join token 1')?.value).toMatch(/^[a-z0-9]{6}\.[a-z0-9]{16}$/);
    expect(secrets.find((s) => s.name === 'certificate key')?.value).toMatch(/^[0-9a-f]{64}$/);
    const joins = (await fleet.full[1]!.sh('cat /var/log/kubeadm-standin.log')).split('\n').map((l) => JSON.parse(l) as { argv: string[]; uid: number; result?: { certificateKey?: string; controlPlane?: boolean } });
    const join = joins.find((c) => c.argv[0] === 'join')!;
    expect(join.result?.controlPlane).toBe(true);
    expect(join.result?.certificateKey).toBe(secrets.find((s) => s.name === 'certificate key')!.value);
    // Run through sudo as root, though the login user is not root.
    expect(join.uid).toBe(0);
    const sudoLog = await fleet.full[1]!.sh('journalctl --no-pager -o cat _COMM=sudo');
    expect(sudoLog).toMatch(new RegExp(`^ *${SUDO_USER} : .*USER=root ; COMMAND=`, 'm'));
  });

  it('the process samples saw the runs (kubeadm and sudo processes), so they could have seen a secret', () => {
    for (const host of fleet.full) expect(samples.get(host.name)!.count, host.name).toBeGreaterThan(30);
    const lines = (name: string) => samples.get(name)!.commandLines;
    expect(lines('full-1').some((l) => /kubeadm init .*--config/.test(l))).toBe(true);
    expect(lines('full-2').some((l) => /kubeadm join .*--config/.test(l))).toBe(true);
    expect(lines('full-2').some((l) => l.startsWith('sudo -S -p '))).toBe(true);
    expect(lines('full-3').some((l) => /kubeadm join .*--config/.test(l))).toBe(true);
  });

  it('no secret in the command line of any process seen on any host', () => {
    const findings = fleet.full.flatMap((h) => findSecrets(samples.get(h.name)!.text, secrets, `${h.name} process list`));
    expect(findings).toEqual([]);
  });

  it('no secret in the console output', () => {
    expect(findSecrets(result.stdout, secrets, 'stdout')).toEqual([]);
    expect(findSecrets(result.stderr, secrets, 'stderr')).toEqual([]);
    // Nor anything shaped like a bootstrap token.
    expect(`${result.stdout}\n${result.stderr}`).not.toMatch(/\b[a-z0-9]{6}\.[a-z0-9]{16}\b/);
  });

  it('no secret in any file beside the inventory: the ledger, the run records, admin.conf', async () => {
    const search = await searchTree(inventoryDir, secrets);
    expect(search.filesRead).toBeGreaterThanOrEqual(5);
    expect(search.findings).toEqual([]);
  });

  it("the file search finds the secrets where they are: in the stand-in's own records (the oracle)", async () => {
    const upper = path.join(fleet.full[0]!.record.dir, 'upper');
    const found = (await searchTree(upper, secrets)).findings.map((f: Finding) => `${f.secret} in ${path.relative(upper, f.where)}`);
    expect(found).toEqual(expect.arrayContaining(['join token 1 in var/log/kubeadm-standin.log', 'certificate key in var/lib/kubeadm-standin/state.json']));
  });

  it("no secret in any file written to a host's disk, its /run, /tmp or /dev/shm, except the stand-in's records", async () => {
    for (const host of fleet.full) {
      const upper = path.join(host.record.dir, 'upper');
      const disk = await searchTree(upper, secrets, [...ORACLE_FILES, PS_SAMPLES_FILE.slice(1)]);
      expect(disk.filesRead, host.name).toBeGreaterThan(30);
      expect(disk.findings, host.name).toEqual([]);
      for (const mount of ['run', 'tmp', 'dev/shm']) {
        const inside = path.join('/proc', String(host.record.initPid), 'root', mount);
        expect((await searchTree(inside, secrets)).findings, `${host.name} /${mount}`).toEqual([]);
      }
    }
  });

  it("no secret in any host's journal, whose entries carry the command line of each process that logged", async () => {
    for (const host of fleet.full) {
      const journal = (await host.exec('journalctl --no-pager -o export')).stdout;
      expect(journal, host.name).toContain('_CMDLINE=');
      expect(findSecrets(journal, secrets, `${host.name} journal`)).toEqual([]);
    }
  });

  it('the 0600 kubeadm config files are gone, their 0700 directory empty', async () => {
    for (const host of fleet.full) {
      expect(await host.sh('stat -c "%a %U:%G" /var/lib/kubeforge/secrets; ls -A /var/lib/kubeforge/secrets'), host.name).toBe('700 root:root');
    }
    expect(await fleet.full[1]!.sh('ls -d /tmp/kubeforge-upload.* 2>/dev/null || true')).toBe('');
  });

  describe('file modes', () => {
    const CONFIGS = [
      '/etc/containerd/config.toml',
      '/etc/crictl.yaml',
      '/etc/systemd/system/containerd.service',
      '/etc/systemd/system/kubelet.service',
      '/etc/systemd/system/kubelet.service.d/10-kubeadm.conf',
      '/etc/modules-load.d/kubeforge.conf',
      '/etc/sysctl.d/99-kubeforge.conf',
    ];

    it('configs kubeforge writes are 0644 root:root on every host (also where the login user is not root)', async () => {
      for (const host of fleet.full) {
        const lines = (await host.sh(`stat -c '%a %U:%G %n' ${CONFIGS.join(' ')}`)).split('\n');
        expect(lines, host.name).toEqual(CONFIGS.map((f) => `644 root:root ${f}`));
      }
    });

    it('binaries are 0755 root:root, bundles 0644 root:root', async () => {
      for (const host of fleet.full) {
        const bins = ['containerd', 'ctr', 'kubeadm', 'kubelet'].map((b) => `/usr/local/bin/${b}`);
        expect((await host.sh(`stat -c '%a %U:%G' ${bins.join(' ')}`)).split('\n'), host.name).toEqual(bins.map(() => '755 root:root'));
        const bundles = (await host.sh("stat -c '%a %U:%G' /var/lib/kubeforge/bundles/*")).split('\n');
        expect(new Set(bundles), host.name).toEqual(new Set(['644 root:root']));
      }
    });

    it('admin.conf and the kubelet kubeconfig are 0600 on the hosts', async () => {
      for (const host of fleet.full.slice(0, 2)) expect(await host.sh("stat -c '%a %U:%G' /etc/kubernetes/admin.conf"), host.name).toBe('600 root:root');
      for (const host of fleet.full) expect(await host.sh("stat -c '%a' /etc/kubernetes/kubelet.conf"), host.name).toBe('600');
    });

    it("kubeforge's directories are not writable by others; nothing written to a host's disk is world-writable", async () => {
      for (const host of fleet.full) {
        const dirs = await host.sh("stat -c '%a %U:%G %n' /var/lib/kubeforge /var/lib/kubeforge/bundles /var/lib/kubeforge/steps /etc/containerd /etc/systemd/system/kubelet.service.d");
        expect(dirs.split('\n'), host.name).toEqual([
          '755 root:root /var/lib/kubeforge',
          '755 root:root /var/lib/kubeforge/bundles',
          '755 root:root /var/lib/kubeforge/steps',
          '755 root:root /etc/containerd',
          '755 root:root /etc/systemd/system/kubelet.service.d',
        ]);
        // Everything the host's disk got since it booted is in its overlay's upper layer.
        const upper = path.join(host.record.dir, 'upper');
        const writable = await run('find', [upper, '!', '-type', 'l', '-perm', '-0002', '!', '(', '-type', 'd', '-perm', '-1000', ')']);
        expect(writable.stdout.trim(), host.name).toBe('');
      }
    });

    it('on this machine: .kubeforge/ is 0700, admin.conf and every ledger file 0600', async () => {
      const ledger = path.join(inventoryDir, '.kubeforge');
      expect((await fs.stat(ledger)).mode & 0o777).toBe(0o700);
      expect((await fs.stat(path.join(ledger, 'runs'))).mode & 0o777).toBe(0o700);
      const files = [path.join(ledger, 'sec-admin.conf'), path.join(ledger, 'last-run.json'), path.join(ledger, 'state.json')];
      for (const run of await fs.readdir(path.join(ledger, 'runs'))) files.push(path.join(ledger, 'runs', run));
      for (const file of files) expect((await fs.stat(file)).mode & 0o777, file).toBe(0o600);
    });
  });
});
