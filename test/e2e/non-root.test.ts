// Hosts reached as an ordinary user: with passwordless sudo, or with sudo that asks for the
// user's password (given through ssh.sudoPasswordEnv, sent only on sudo's stdin), kubeforge
// works end to end and everything it writes belongs to root. A user without sudo rights, or a
// wrong sudo password, is a clear error before anything on the host is changed.
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
import { startPsSampler, stopPsSampler, type PsSamples } from '../hosts/ps-sampler.js';
import { addUser } from '../hosts/users.js';
import { e2eUnavailableReason, kubeforge } from './support.js';

const unavailable = e2eUnavailableReason();

const NOPASSWD_USER = 'kfnopw';
const PASSWORD_USER = 'kfpw';
/** Quotes, $( ), backticks, ; and spaces: it must reach sudo intact, and only sudo. */
const SUDO_PASSWORD = `pw'1 "two" $(touch /tmp/pwned-sudopw) \`id\`; three`;
const NO_SUDO_USER = 'kfnosudo';
const NO_SUDO_PASSWORD = 'plain-login-password-4711';
const PASSWORD_USER_3 = 'kfpw3';

interface Ledger {
  hosts: Array<{ host: string; status: string; reason?: string; steps: Array<{ key: string; status: string; error?: { message: string; hint?: string } }> }>;
}

async function ledgerOf(inventory: string): Promise<Ledger> {
  return JSON.parse(await fs.readFile(path.join(path.dirname(inventory), '.kubeforge', 'last-run.json'), 'utf8')) as Ledger;
}

/**
 * What a kubeforge run would have left on the host: its state directory, the files its first
 * steps write, an uploaded bundle or a staging directory of a non-root upload.
 */
async function kubeforgeTraces(host: TestHost): Promise<string> {
  return host.sh(
    'ls -d /var/lib/kubeforge /etc/modules-load.d/kubeforge.conf /etc/sysctl.d/99-kubeforge.conf /etc/containerd /usr/local/bin/containerd /tmp/kubeforge-upload.* /var/tmp/kubeforge-upload.* 2>/dev/null || true',
  );
}

/** Files of the host's disk (its overlay upper layer) with their mtimes, outside logs and login records. */
async function diskSnapshot(host: TestHost): Promise<string> {
  const upper = path.join(host.record.dir, 'upper');
  // Logging in leaves traces that are not kubeforge's: the journal, wtmp/lastlog, sudo's lecture
  // and timestamp records.
  const r = await run('sh', ['-c', 'cd "$1" && find . \\( -path ./var/log -o -path ./var/lib/sudo -o -path ./run \\) -prune -o -printf "%p %T@ %m\\n" | sort', 'sh', upper]);
  return r.stdout;
}

describe.skipIf(unavailable)('non-root users with sudo', () => {
  let fleet: Fleet;
  let artifacts: Artifacts;
  let dir: string;
  let clientKeyPublic: string;

  beforeAll(async () => {
    [fleet, artifacts] = await Promise.all([startFleet({ full: 3 }), buildArtifacts('1.30.2')]);
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'kf-nonroot-'));
    clientKeyPublic = (await fs.readFile(`${fleet.clientKey}.pub`, 'utf8')).trim();
    const [a, b, c] = fleet.full as [TestHost, TestHost, TestHost];
    await addUser(a, { name: NOPASSWD_USER, sudo: 'nopasswd', authorizedKeys: [clientKeyPublic] });
    await addUser(b, { name: PASSWORD_USER, sudo: 'password', password: SUDO_PASSWORD, authorizedKeys: [clientKeyPublic] });
    await addUser(c, { name: NO_SUDO_USER, sudo: 'none', password: NO_SUDO_PASSWORD, authorizedKeys: [clientKeyPublic] });
    await addUser(c, { name: PASSWORD_USER_3, sudo: 'password', password: 'the-right-one', authorizedKeys: [clientKeyPublic] });
  });

  afterAll(async () => {
    await fleet?.destroy();
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  /** An inventory of `hosts` (the first the control plane), each logging in as the user given. */
  async function inventory(name: string, hosts: Array<[TestHost, Record<string, unknown>]>): Promise<string> {
    const file = await writeFleetInventory(fleet, path.join(dir, name), { artifacts, hosts: hosts.map(([h]) => h), clusterName: 'nonroot' });
    const doc = parseYaml(await fs.readFile(file, 'utf8')) as { hosts: Array<Record<string, unknown>> };
    hosts.forEach(([, ssh], i) => (doc.hosts[i]!.ssh = ssh));
    await fs.writeFile(file, stringify(doc));
    return file;
  }

  describe(`${NOPASSWD_USER} (NOPASSWD) on the control plane, ${PASSWORD_USER} (sudo password) on the worker`, () => {
    let file: string;
    let first: { code: number; stdout: string; stderr: string };
    let samples: PsSamples;

    beforeAll(async () => {
      const [a, b] = fleet.full as [TestHost, TestHost];
      file = await inventory('both', [
        [a, { user: NOPASSWD_USER }],
        [b, { user: PASSWORD_USER, sudoPasswordEnv: 'KF_TEST_SUDO_PASSWORD' }],
      ]);
      await startPsSampler(b);
      first = await kubeforge(['up', '-i', file], { env: { KF_TEST_SUDO_PASSWORD: SUDO_PASSWORD } });
      samples = await stopPsSampler(b);
    });

    it('works end to end: the control plane initialised, the worker joined', async () => {
      expect(first.code, first.stdout + first.stderr).toBe(0);
      const [a, b] = fleet.full as [TestHost, TestHost];
      for (const host of [a, b]) {
        expect(await host.sh('systemctl is-active containerd'), host.name).toBe('active');
        expect(await host.sh('test -f /etc/kubernetes/kubelet.conf && systemctl is-active kubelet'), host.name).toBe('active');
      }
    });

    it('logged in as those users only, never as root, and reached root through sudo', async () => {
      for (const [host, user] of [[fleet.full[0]!, NOPASSWD_USER], [fleet.full[1]!, PASSWORD_USER]] as const) {
        const sshd = await host.sh('journalctl --no-pager -o cat -u ssh');
        expect(sshd, host.name).toContain(`Accepted publickey for ${user} `);
        expect(sshd, host.name).not.toContain('Accepted publickey for root ');
        const sudo = await host.sh('journalctl --no-pager -o cat _COMM=sudo');
        expect(sudo, host.name).toMatch(new RegExp(`^ *${user} : .*USER=root ; COMMAND=`, 'm'));
        // kubeadm itself ran as root.
        const calls = (await host.sh('cat /var/log/kubeadm-standin.log')).split('\n').map((l) => JSON.parse(l) as { argv: string[]; uid: number });
        expect(calls.filter((c) => c.argv[0] === 'init' || c.argv[0] === 'join').map((c) => c.uid), host.name).toEqual([0]);
      }
    });

    it('everything it wrote belongs to root, with the modes it must have (uploads included)', async () => {
      for (const host of fleet.full.slice(0, 2)) {
        const owners = await host.sh(
          "stat -c '%U:%G %a %n' /var/lib/kubeforge /var/lib/kubeforge/bundles/* /etc/containerd/config.toml /etc/crictl.yaml /usr/local/bin/containerd /usr/local/bin/kubeadm",
        );
        for (const line of owners.split('\n')) expect(line, host.name).toMatch(/^root:root (755|644) /);
        expect(await host.sh('ls -d /tmp/kubeforge-upload.* 2>/dev/null || true'), host.name).toBe('');
      }
    });

    it('the sudo password went only to sudo: never in a process list (sampled), the output or the ledger', async () => {
      expect(samples.count).toBeGreaterThan(20);
      expect(samples.commandLines.some((l) => l.startsWith('sudo -S -p '))).toBe(true);
      expect(samples.text).not.toContain(SUDO_PASSWORD);
      expect(first.stdout + first.stderr).not.toContain(SUDO_PASSWORD);
      expect(await fs.readFile(path.join(path.dirname(file), '.kubeforge', 'last-run.json'), 'utf8')).not.toContain(SUDO_PASSWORD);
      expect(await fleet.full[1]!.sh("find / \\( -path /proc -o -path /sys -o -path /dev \\) -prune -o -name 'pwned-*' -print")).toBe('');
    });

    it('a second run as the same users changes nothing', async () => {
      const again = await kubeforge(['up', '-i', file], { env: { KF_TEST_SUDO_PASSWORD: SUDO_PASSWORD } });
      expect(again.code, again.stdout + again.stderr).toBe(0);
      for (const host of (await ledgerOf(file)).hosts) {
        for (const step of host.steps) expect(['unchanged', 'verified'], `${host.host} ${step.key}`).toContain(step.status);
      }
    });
  });

  describe('refused before anything is changed', () => {
    async function refused(name: string, ssh: Record<string, unknown>, env: NodeJS.ProcessEnv = {}) {
      const host = fleet.full[2]!;
      const file = await inventory(name, [[host, ssh]]);
      const before = await diskSnapshot(host);
      const r = await kubeforge(['up', '-i', file], { env });
      const ledger = await ledgerOf(file);
      return { ...r, ledger, file, before, after: await diskSnapshot(host), traces: await kubeforgeTraces(host) };
    }

    it(`${NO_SUDO_USER}, no sudo rights and no sudo password configured: a clear error, the host untouched`, async () => {
      const r = await refused('no-sudo', { user: NO_SUDO_USER });
      expect(r.code, r.stdout + r.stderr).toBe(1);
      const steps = r.ledger.hosts[0]!.steps;
      expect(steps.map((s) => [s.key, s.status])).toEqual([['root-access', 'failed']]);
      expect(steps[0]!.error!.message).toBe(`${NO_SUDO_USER} cannot run commands as root: full-3: sudo asks for a password and none is configured`);
      expect(steps[0]!.error!.hint).toMatch(/sudoPasswordEnv.*NOPASSWD/);
      expect(r.stdout).toContain(`full-3 hint: `);
      expect(r.traces).toBe('');
      expect(r.after).toBe(r.before);
    });

    it(`${NO_SUDO_USER} with its password given: sudo's refusal is named, the host untouched`, async () => {
      const r = await refused('no-sudo-password', { user: NO_SUDO_USER, sudoPasswordEnv: 'KF_TEST_SUDO_PASSWORD' }, { KF_TEST_SUDO_PASSWORD: NO_SUDO_PASSWORD });
      expect(r.code, r.stdout + r.stderr).toBe(1);
      const step = r.ledger.hosts[0]!.steps[0]!;
      expect(step.key).toBe('root-access');
      expect(step.error!.message).toMatch(new RegExp(`^${NO_SUDO_USER} cannot run commands as root \\(sudo said: .*${NO_SUDO_USER} is not in the sudoers file`));
      expect(step.error!.hint).toContain(`${NO_SUDO_USER} ALL=(ALL:ALL) NOPASSWD: ALL`);
      expect(r.stdout + r.stderr).not.toContain(NO_SUDO_PASSWORD);
      expect(r.traces).toBe('');
      expect(r.after).toBe(r.before);
    });

    it(`${PASSWORD_USER_3} with a wrong sudo password: refused, the host untouched`, async () => {
      const wrong = "wrong 'password' $(touch /tmp/pwned-wrong)";
      const r = await refused('wrong-password', { user: PASSWORD_USER_3, sudoPasswordEnv: 'KF_TEST_SUDO_PASSWORD' }, { KF_TEST_SUDO_PASSWORD: wrong });
      expect(r.code, r.stdout + r.stderr).toBe(1);
      const step = r.ledger.hosts[0]!.steps[0]!;
      expect(step.key).toBe('root-access');
      expect(step.error!.message).toBe(`${PASSWORD_USER_3} cannot run commands as root: full-3: sudo did not accept the password`);
      expect(r.stdout + r.stderr).not.toContain(wrong);
      expect(r.traces).toBe('');
      expect(r.after).toBe(r.before);
    });
  });
});
