// Host keys through the real CLI, against light test hosts whose keys the tests change between
// runs: strict by default, a new host recorded only with --accept-new-host-keys, a changed key
// refused with both fingerprints and the known_hosts line to fix (and the fix the hint gives
// works), hashed known_hosts entries and `[host]:port` entries understood as OpenSSH does.
//
// The subject is the connect step, so the runs use a minimal set of playbooks whose only
// effect is to append a line to /var/lib/kf-hostkey-test/runs on the host ("a step ran"), and
// each host is given an /etc/kubernetes/admin.conf so the cluster phase counts it as
// initialised. A run that reaches the host thus ends with exit 0; a refused one must leave
// that file, the host's sshd log (no login) and known_hosts as they were.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Artifacts } from '../hosts/artifacts.js';
import { run } from '../hosts/exec.js';
import { changeHostKey, listenOnExtraPort, presentedHostKey } from '../hosts/faults.js';
import { startFleet, type Fleet } from '../hosts/fleet.js';
import type { TestHost } from '../hosts/host.js';
import { writeFleetInventory } from '../hosts/inventory.js';
import { FIXTURE_IMAGE_REF, makeInventoryFixture, type InventoryFixture } from '../inventories/fixtures.js';
import { e2eUnavailableReason, kubeforge } from './support.js';

const unavailable = e2eUnavailableReason();

const EXTRA_PORT = 2222;

const PLAYBOOKS: Record<string, string> = {
  // verifyOnly steps run on every run; this one leaves a trace of having run.
  'prepare.yaml': `name: prepare
steps:
  - id: mark
    title: record that a step ran on this host
    verifyOnly: true
    verify: mkdir -p /var/lib/kf-hostkey-test && date +%s.%N >> /var/lib/kf-hostkey-test/runs
`,
  'containerd.yaml': 'name: containerd\nsteps:\n  - { id: nothing, title: nothing, verifyOnly: true, verify: "true" }\n',
  'kubernetes.yaml': 'name: kubernetes\nsteps:\n  - { id: nothing, title: nothing, verifyOnly: true, verify: "true" }\n',
};

interface LedgerStep {
  key: string;
  status: string;
  error?: { message: string; hint?: string };
}
interface Ledger {
  exitCode: number;
  hosts: Array<{ host: string; status: string; steps: LedgerStep[] }>;
}

/** OpenSSH's fingerprint of a public key line, as `ssh-keygen -lf` prints it. */
async function fingerprint(publicKey: string, scratch: string): Promise<string> {
  const file = path.join(scratch, `fp-${Math.random().toString(36).slice(2)}.pub`);
  await fs.writeFile(file, `${publicKey}\n`);
  const r = await run('ssh-keygen', ['-l', '-E', 'sha256', '-f', file]);
  return r.stdout.split(' ')[1]!;
}

describe.skipIf(unavailable)('host keys: checked strictly against known_hosts, through the CLI', () => {
  let fleet: Fleet;
  let fixture: InventoryFixture;
  let artifacts: Artifacts;
  let scratch: string;
  let playbooks: string;

  beforeAll(async () => {
    fleet = await startFleet({ light: 3 });
    fixture = makeInventoryFixture();
    scratch = await fs.mkdtemp(path.join(os.tmpdir(), 'kf-hostkeys-'));
    playbooks = path.join(scratch, 'playbooks');
    await fs.mkdir(playbooks);
    for (const [name, text] of Object.entries(PLAYBOOKS)) await fs.writeFile(path.join(playbooks, name), text);
    // Small stand-in bundles: these runs never upload them, the loader only checks and hashes them.
    const bundles = path.join(fixture.dir, 'bundles');
    artifacts = {
      containerdBundle: path.join(bundles, 'containerd-1.7.20-linux-amd64.tar.gz'),
      containerdVersion: '1.7.20',
      imageArchive: path.join(bundles, 'images.tar'),
      imageRef: FIXTURE_IMAGE_REF,
      kubernetesBundle: path.join(bundles, 'kubernetes-1.30.2-linux-amd64.tar.gz'),
      kubernetesVersion: '1.30.2',
    };
    for (const host of fleet.light) {
      await host.exec("mkdir -p /etc/kubernetes && printf 'apiVersion: v1\\nkind: Config\\n' > /etc/kubernetes/admin.conf");
    }
  });

  afterAll(async () => {
    await fleet?.destroy();
    fixture?.remove();
    if (scratch) await fs.rm(scratch, { recursive: true, force: true });
  });

  /** An inventory for one host with its own known_hosts file (initially `knownHosts`). */
  async function inventoryFor(host: TestHost, name: string, knownHosts: string, port = 22) {
    const dir = path.join(scratch, name);
    const file = await writeFleetInventory(fleet, dir, {
      artifacts,
      hosts: [host],
      overrides: {
        ssh: { user: 'root', keyFile: fleet.clientKey, agent: false, knownHostsFile: path.join(dir, 'known_hosts'), port, connectTimeout: '10s' },
        // kubeadm 1.30 wants crictl: the (stub) cri-tools bundle provides it, for the preflight.
        kubernetes: { criTools: path.join(fixture.dir, 'bundles', 'crictl-v1.30.0-linux-amd64.tar.gz') },
      },
    });
    const knownHostsFile = path.join(dir, 'known_hosts');
    await fs.writeFile(knownHostsFile, knownHosts, { mode: 0o600 });
    return { dir, file, knownHostsFile };
  }

  async function up(inventory: string, extra: string[] = []) {
    const r = await kubeforge(['up', '-i', inventory, '--playbooks', playbooks, ...extra], { timeoutMs: 120_000 });
    const ledger = JSON.parse(await fs.readFile(path.join(path.dirname(inventory), '.kubeforge', 'last-run.json'), 'utf8')) as Ledger;
    return { ...r, ledger, output: r.stdout + r.stderr };
  }

  /** How many times a step ran on the host, and how many logins its sshd accepted. */
  async function traces(host: TestHost): Promise<{ runs: number; logins: number }> {
    const runs = await host.sh('cat /var/lib/kf-hostkey-test/runs 2>/dev/null | wc -l');
    const log = await fs.readFile(path.join(host.record.dir, 'sshd.log'), 'utf8');
    return { runs: Number(runs), logins: log.split('\n').filter((l) => l.includes('Accepted publickey')).length };
  }

  describe('a host not in known_hosts, then a changed key (light-1, port 22)', () => {
    let host: TestHost;
    let inv: { dir: string; file: string; knownHostsFile: string };
    let firstKey: string;

    beforeAll(async () => {
      host = fleet.light[0]!;
      firstKey = host.record.hostKeyPublic;
      inv = await inventoryFor(host, 'light-1', '');
    });

    it('is refused without --accept-new-host-keys: its fingerprint named, the flag hinted, nothing done on the host', async () => {
      const r = await up(inv.file);
      expect(r.code, r.output).toBe(1);
      const steps = r.ledger.hosts[0]!.steps;
      expect(steps.map((s) => [s.key, s.status])).toEqual([['connect', 'failed']]);
      expect(steps[0]!.error!.message).toContain(`host key ssh-ed25519 ${await fingerprint(firstKey, scratch)} is not in ${inv.knownHostsFile}`);
      expect(steps[0]!.error!.hint).toContain('--accept-new-host-keys');
      expect(r.stdout).toMatch(/light-1 hint: .*--accept-new-host-keys/);
      expect(await fs.readFile(inv.knownHostsFile, 'utf8')).toBe('');
      expect(await traces(host)).toEqual({ runs: 0, logins: 0 });
      expect(await host.sh('test -e /var/lib/kubeforge && echo touched || echo untouched')).toBe('untouched');
    });

    it('is recorded with --accept-new-host-keys in the form OpenSSH reads, and the run goes on', async () => {
      const r = await up(inv.file, ['--accept-new-host-keys']);
      expect(r.code, r.output).toBe(0);
      expect(await fs.readFile(inv.knownHostsFile, 'utf8')).toBe(`${host.address} ${firstKey}\n`);
      const after = await traces(host);
      expect(after.runs).toBe(1);
      expect(after.logins).toBeGreaterThanOrEqual(1);
      // The OpenSSH client, strict, accepts the file kubeforge wrote.
      const ssh = await run('ssh', ['-i', fleet.clientKey, '-o', `UserKnownHostsFile=${inv.knownHostsFile}`, '-o', 'StrictHostKeyChecking=yes', '-o', 'BatchMode=yes', `root@${host.address}`, 'hostname']);
      expect(ssh.stdout.trim()).toBe(host.name);
    });

    it('is known on the next run: no flag needed, nothing more recorded', async () => {
      const before = await traces(host);
      const r = await up(inv.file);
      expect(r.code, r.output).toBe(0);
      expect(await fs.readFile(inv.knownHostsFile, 'utf8')).toBe(`${host.address} ${firstKey}\n`);
      expect((await traces(host)).runs).toBe(before.runs + 1);
    });

    it('after the host key changed: refused, naming both fingerprints and the known_hosts line; the host is not touched', async () => {
      const newKey = await changeHostKey(host);
      expect(newKey).not.toBe(firstKey);
      const before = await traces(host);
      const r = await up(inv.file);
      expect(r.code, r.output).toBe(1);
      const step = r.ledger.hosts[0]!.steps[0]!;
      expect(r.ledger.hosts[0]!.steps.map((s) => [s.key, s.status])).toEqual([['connect', 'failed']]);
      const [oldFp, newFp] = [await fingerprint(firstKey, scratch), await fingerprint(newKey, scratch)];
      expect(oldFp).not.toBe(newFp);
      expect(step.error!.message).toContain(`HOST KEY CHANGED: ${inv.knownHostsFile}:1 has ${oldFp}, the host presented ${newFp}`);
      expect(step.error!.hint).toContain(`delete line 1 of ${inv.knownHostsFile}`);
      // The same in what the user sees, not only in the ledger.
      expect(r.stdout).toContain(`${inv.knownHostsFile}:1 has ${oldFp}, the host presented ${newFp}`);
      expect(await traces(host)).toEqual(before);
      expect(await fs.readFile(inv.knownHostsFile, 'utf8')).toBe(`${host.address} ${firstKey}\n`);
    });

    it('a changed key is refused even with --accept-new-host-keys (trust on first use is for new hosts only)', async () => {
      const before = await traces(host);
      const r = await up(inv.file, ['--accept-new-host-keys']);
      expect(r.code, r.output).toBe(1);
      expect(r.ledger.hosts[0]!.steps[0]!.error!.message).toContain('HOST KEY CHANGED');
      expect(await traces(host)).toEqual(before);
      expect(await fs.readFile(inv.knownHostsFile, 'utf8')).toBe(`${host.address} ${firstKey}\n`);
    });

    it('the command the hint gives removes the old line; the new key can then be accepted', async () => {
      const r = await up(inv.file);
      const hint = r.ledger.hosts[0]!.steps[0]!.error!.hint!;
      const command = /\((ssh-keygen -R [^)]*)\)/.exec(hint)?.[1];
      expect(command, hint).toBeDefined();
      await run('sh', ['-c', command!]);
      expect(await fs.readFile(inv.knownHostsFile, 'utf8')).not.toContain(firstKey);
      const accepted = await up(inv.file, ['--accept-new-host-keys']);
      expect(accepted.code, accepted.output).toBe(0);
      expect(await fs.readFile(inv.knownHostsFile, 'utf8')).toContain(`${host.address} ${await presentedHostKey(host, 22)}\n`);
    });
  });

  describe('hashed known_hosts entries (light-2)', () => {
    let host: TestHost;
    let inv: { dir: string; file: string; knownHostsFile: string };
    let hashedLine: number;

    beforeAll(async () => {
      host = fleet.light[1]!;
      const other = fleet.light[0]!;
      inv = await inventoryFor(host, 'light-2', `# hosts of the test fleet\n${other.address} ${other.record.hostKeyPublic}\n${host.address} ${host.record.hostKeyPublic}\n`);
      execFileSync('ssh-keygen', ['-H', '-f', inv.knownHostsFile], { stdio: 'ignore' });
      const lines = (await fs.readFile(inv.knownHostsFile, 'utf8')).split('\n');
      hashedLine = lines.findIndex((l) => l.endsWith(host.record.hostKeyPublic)) + 1;
    });

    it('hides the addresses (the file really is hashed)', async () => {
      const text = await fs.readFile(inv.knownHostsFile, 'utf8');
      expect(text).not.toContain(host.address);
      expect(text).toMatch(/^\|1\|/m);
      expect(hashedLine).toBeGreaterThan(1);
    });

    it('a hashed entry is matched: the run connects and records nothing new', async () => {
      const before = await fs.readFile(inv.knownHostsFile, 'utf8');
      const r = await up(inv.file);
      expect(r.code, r.output).toBe(0);
      expect((await traces(host)).runs).toBe(1);
      expect(await fs.readFile(inv.knownHostsFile, 'utf8')).toBe(before);
    });

    it('a changed key behind a hashed entry is refused, naming that line', async () => {
      const oldFp = await fingerprint(host.record.hostKeyPublic, scratch);
      const newFp = await fingerprint(await changeHostKey(host), scratch);
      const r = await up(inv.file);
      expect(r.code, r.output).toBe(1);
      expect(r.ledger.hosts[0]!.steps[0]!.error!.message).toContain(`HOST KEY CHANGED: ${inv.knownHostsFile}:${hashedLine} has ${oldFp}, the host presented ${newFp}`);
      expect((await traces(host)).runs).toBe(1);
    });
  });

  describe(`[host]:port entries (light-3, an sshd on port ${EXTRA_PORT})`, () => {
    let host: TestHost;

    beforeAll(async () => {
      host = fleet.light[2]!;
      await listenOnExtraPort(host, EXTRA_PORT);
    });

    it(`a [host]:${EXTRA_PORT} entry is matched on that port`, async () => {
      const inv = await inventoryFor(host, 'light-3-bracketed', `[${host.address}]:${EXTRA_PORT} ${host.record.hostKeyPublic}\n`, EXTRA_PORT);
      const r = await up(inv.file);
      expect(r.code, r.output).toBe(0);
      expect((await traces(host)).runs).toBe(1);
    });

    it(`a plain (port 22) entry does not vouch for port ${EXTRA_PORT}: the host is unknown there`, async () => {
      const inv = await inventoryFor(host, 'light-3-plain', `${host.address} ${host.record.hostKeyPublic}\n`, EXTRA_PORT);
      const r = await up(inv.file);
      expect(r.code, r.output).toBe(1);
      expect(r.ledger.hosts[0]!.steps[0]!.error!.message).toMatch(/host key ssh-ed25519 SHA256:\S+ is not in /);
      expect((await traces(host)).runs).toBe(1);
    });

    it(`a [host]:${EXTRA_PORT} entry with another key is a changed key, with the line and a bracketed ssh-keygen -R`, async () => {
      const wrong = fleet.light[0]!.record.hostKeyPublic;
      const inv = await inventoryFor(host, 'light-3-changed', `# other\n[${host.address}]:${EXTRA_PORT} ${wrong}\n`, EXTRA_PORT);
      const r = await up(inv.file);
      expect(r.code, r.output).toBe(1);
      const error = r.ledger.hosts[0]!.steps[0]!.error!;
      expect(error.message).toContain(`HOST KEY CHANGED: ${inv.knownHostsFile}:2 has ${await fingerprint(wrong, scratch)}, the host presented ${await fingerprint(host.record.hostKeyPublic, scratch)}`);
      expect(error.hint).toContain(`ssh-keygen -R '[${host.address}]:${EXTRA_PORT}'`);
      expect((await traces(host)).runs).toBe(1);
    });

    it(`is recorded as [host]:${EXTRA_PORT} with --accept-new-host-keys, and OpenSSH then trusts that port`, async () => {
      const inv = await inventoryFor(host, 'light-3-new', '', EXTRA_PORT);
      const r = await up(inv.file, ['--accept-new-host-keys']);
      expect(r.code, r.output).toBe(0);
      expect(await fs.readFile(inv.knownHostsFile, 'utf8')).toBe(`[${host.address}]:${EXTRA_PORT} ${host.record.hostKeyPublic}\n`);
      const ssh = await run('ssh', ['-i', fleet.clientKey, '-p', String(EXTRA_PORT), '-o', `UserKnownHostsFile=${inv.knownHostsFile}`, '-o', 'StrictHostKeyChecking=yes', '-o', 'BatchMode=yes', `root@${host.address}`, 'hostname']);
      expect(ssh.stdout.trim()).toBe(host.name);
    });
  });
});
