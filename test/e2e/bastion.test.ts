// Hosts reachable only through a bastion: light hosts whose network namespaces accept nothing
// but the bastion and each other, so this machine cannot reach them (checked with OpenSSH's own
// client). `up` tunnels through the bastion configured by ~/.ssh/config's ProxyJump (HOME points
// at a test folder) and by ssh.proxyJump in the inventory, over one bastion connection for all
// hosts, with the relay still passing bundles host to host (and falling back to the bastion
// when the hosts cannot reach each other), and through a chain of two bastions. A changed
// bastion host key is refused on every host naming the bastion; the bastion dropping its
// connections, or going silent, mid-run fails its hosts with that cause, and --retry-failed
// converges; Ctrl-C kills the hosts' commands through the tunnel.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildContainerdBundle } from '../hosts/artifacts.js';
import { acceptedLogins, dropBastionConnections, hideBehind } from '../hosts/bastion.js';
import { run } from '../hosts/exec.js';
import { changeHostKey } from '../hosts/faults.js';
import { startFleet, type Fleet } from '../hosts/fleet.js';
import type { TestHost } from '../hosts/host.js';
import { makeInventoryFixture, type InventoryFixture } from '../inventories/fixtures.js';
import { markAsCluster, writeStubInventory, writeStubPlaybooks } from './stub-cluster.js';
import { relayTraces, type LedgerRun } from './relay-support.js';
import { e2eUnavailableReason, kubeforge, kubeforgeInBackground, ssh, waitFor } from './support.js';

const unavailable = e2eUnavailableReason();

interface Summary {
  event: 'summary';
  exitCode: number;
  hosts: Array<{ host: string; status: string; reason?: string; ssh?: Record<string, { value: string; from: string }> }>;
}

/** The summary line of a `--json` run. */
function summaryOf(stdout: string): Summary {
  const line = stdout
    .split('\n')
    .reverse()
    .find((l) => l.startsWith('{') && l.includes('"event":"summary"'));
  if (!line) throw new Error(`no summary in:\n${stdout}`);
  return JSON.parse(line) as Summary;
}

describe.skipIf(unavailable)('bastion: hosts reachable only through a jump host', () => {
  let fleet: Fleet;
  let fixture: InventoryFixture;
  let dir: string;
  let bastion: TestHost;
  let hidden: TestHost[];
  let home: string;
  let sshConfig: string;
  let playbooks: string;
  let containerd: { bundle: string; version: string };

  beforeAll(async () => {
    fleet = await startFleet({ light: 4 });
    [bastion, ...hidden] = fleet.light as [TestHost, ...TestHost[]];
    await hideBehind(bastion, hidden);
    fixture = makeInventoryFixture();
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'kf-bastion-'));
    const built = await buildContainerdBundle();
    containerd = { bundle: built.path, version: built.version };
    playbooks = await writeStubPlaybooks(path.join(dir, 'relaying'), 'test -s "$KF_BUNDLE_CONTAINERD"', { sendsContainerdBundle: true });
    await markAsCluster(hidden);

    // The operator's ~/.ssh/config: the bastion by an alias, and every other fleet address
    // behind it. The inventory names neither.
    home = path.join(dir, 'home');
    await fs.mkdir(path.join(home, '.ssh'), { recursive: true, mode: 0o700 });
    sshConfig = path.join(home, '.ssh', 'config');
    await fs.writeFile(
      sshConfig,
      [
        '# the jump host of the test network',
        'Host jump',
        `  HostName ${bastion.address}`,
        '  User root',
        '',
        `Host ${hidden.map((h) => h.address).join(' ')} !${bastion.address}`,
        '  ProxyJump jump',
        '',
      ].join('\n'),
    );
  }, 300_000);

  afterAll(async () => {
    await fleet?.destroy();
    fixture?.remove();
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  it('this machine cannot reach the hidden hosts directly; the bastion can', async () => {
    for (const host of hidden) {
      const direct = await ssh(fleet, host, 'true', { allowFail: true });
      expect(direct.code, `${host.name} must not be reachable from this machine`).not.toBe(0);
    }
    // OpenSSH through the bastion reaches them: the network is as the test means it.
    const checked = ['-i', fleet.clientKey, '-o', `UserKnownHostsFile=${fleet.knownHosts}`, '-o', 'StrictHostKeyChecking=yes', '-o', 'BatchMode=yes'];
    const through = await run(
      'ssh',
      [...checked, '-o', `ProxyCommand=ssh ${checked.join(' ')} -W %h:%p root@${bastion.address}`, `root@${hidden[0]!.address}`, 'hostname'],
      { allowFail: true },
    );
    expect(through.stdout.trim(), through.stderr).toBe(hidden[0]!.name);
  }, 60_000);

  it('up through the ProxyJump of ~/.ssh/config: one bastion login for all hosts, bundles relayed host to host, -v says where each setting came from', async () => {
    const inventory = await writeStubInventory(fleet, fixture, await subdir('by-config'), hidden, { containerd });
    const bastionLogins = (await acceptedLogins(bastion)).length;

    const r = await kubeforge(['up', '-i', inventory, '--playbooks', playbooks, '--no-progress', '-v'], { env: { HOME: home }, timeoutMs: 180_000 });
    expect(r.code, r.stdout + r.stderr).toBe(0);

    // -v: the ProxyJump and the bastion come from the ssh config, with its lines.
    const setting = (name: string, value: string, from: string) => `  ${name.padEnd('keepaliveInterval'.length)}  ${value}  (${from})`;
    expect(r.stdout).toContain(setting('proxyJump', 'root@jump:22', `ssh config ${sshConfig}:7`));
    expect(r.stdout).toContain(setting('user', 'root', 'inventory ssh.user'));
    expect(r.stdout).toContain(setting('address', hidden[0]!.address, 'inventory hosts[0].address'));
    expect(r.stdout).toContain(`  via bastion root@jump:22: dials ${bastion.address}, user root, key ${fleet.clientKey}`);

    // One login on the bastion for the three hosts; each host saw kubeforge's login come from the
    // bastion (the others are the relay's, from peers), none from this machine.
    expect((await acceptedLogins(bastion)).length - bastionLogins).toBe(1);
    for (const host of hidden) {
      const logins = await acceptedLogins(host);
      expect(logins.filter((l) => l.includes(`from ${bastion.address} `)).length, logins.join('\n')).toBeGreaterThan(0);
      expect(logins.filter((l) => l.includes(`from ${fleet.gateway} `)), logins.join('\n')).toEqual([]);
    }

    // The relay works behind the bastion: one copy came through it, the others host to host.
    const ledger = JSON.parse(await fs.readFile(path.join(path.dirname(inventory), '.kubeforge', 'last-run.json'), 'utf8')) as LedgerRun;
    const details = ledger.hosts.map((h) => h.steps.find((s) => s.key === 'prepare/work')?.detail ?? '');
    expect(details.filter((d) => / uploaded \(/.test(d)), details.join('\n')).toHaveLength(1);
    expect(details.filter((d) => / relayed from [a-z0-9-]+ \(/.test(d)), details.join('\n')).toHaveLength(hidden.length - 1);
    for (const host of hidden) expect(await relayTraces(host), host.name).toBe('');
  }, 240_000);

  it('hosts that cannot reach each other behind the bastion get their copies through the bastion instead: the relay falls back, the run succeeds', async () => {
    const inventory = await writeStubInventory(fleet, fixture, await subdir('no-peers'), hidden, { containerd });
    await hideBehind(bastion, hidden, { peers: false });
    let r;
    try {
      await Promise.all(hidden.map((h) => h.exec('rm -rf /var/lib/kubeforge/bundles/* /var/lib/kubeforge/steps/*')));
      r = await kubeforge(['up', '-i', inventory, '--playbooks', playbooks, '--no-progress'], { env: { HOME: home }, timeoutMs: 180_000 });
    } finally {
      await hideBehind(bastion, hidden);
    }
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const ledger = JSON.parse(await fs.readFile(path.join(path.dirname(inventory), '.kubeforge', 'last-run.json'), 'utf8')) as LedgerRun;
    const details = ledger.hosts.map((h) => h.steps.find((s) => s.key === 'prepare/work')?.detail ?? '');
    expect(details.filter((d) => / uploaded \(/.test(d)), details.join('\n')).toHaveLength(hidden.length);
    expect(details.filter((d) => / relayed from /.test(d)), details.join('\n')).toEqual([]);
    for (const host of hidden) expect(await relayTraces(host), host.name).toBe('');
  }, 240_000);

  it('up through ssh.proxyJump in the inventory, which wins over the ssh config; the --json summary carries the sources', async () => {
    const inventory = await writeStubInventory(fleet, fixture, await subdir('by-inventory'), hidden, {
      containerd,
      ssh: { proxyJump: `root@${bastion.address}:22` },
    });
    const r = await kubeforge(['up', '-i', inventory, '--playbooks', playbooks, '--json'], { env: { HOME: home }, timeoutMs: 180_000 });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const summary = summaryOf(r.stdout);
    expect(summary.hosts.map((h) => h.status)).toEqual(hidden.map(() => 'ok'));
    for (const h of summary.hosts) {
      expect(h.ssh?.proxyJump).toEqual({ value: `root@${bastion.address}:22`, from: 'inventory ssh.proxyJump' });
      expect(h.ssh?.address?.from).toMatch(/^inventory hosts\[\d\]\.address$/);
    }
  }, 240_000);

  it('a chain of two bastions: the second reached through the first, the hosts through the second', async () => {
    const [second, ...behind] = hidden as [TestHost, ...TestHost[]];
    const work = await subdir('chain');
    const inventory = await writeStubInventory(fleet, fixture, work, behind, { ssh: { proxyJump: `root@${bastion.address},root@${second.address}` } });
    const plain = await writeStubPlaybooks(work, 'true');
    await markAsCluster(behind);
    const before = await Promise.all([bastion, second].map(async (h) => (await acceptedLogins(h)).length));
    let r;
    try {
      r = await kubeforge(['up', '-i', inventory, '--playbooks', plain, '--no-progress'], { env: { HOME: home }, timeoutMs: 180_000 });
    } finally {
      await markAsCluster(hidden);
    }
    expect(r.code, r.stdout + r.stderr).toBe(0);
    // One login on each bastion; the second one's came from the first.
    const after = await Promise.all([bastion, second].map(acceptedLogins));
    expect(after.map((logins, i) => logins.length - before[i]!)).toEqual([1, 1]);
    expect(after[1]!.at(-1)).toContain(`from ${bastion.address} `);
    for (const host of behind) expect((await acceptedLogins(host)).at(-1), host.name).toContain(`from ${second.address} `);
  }, 240_000);

  it('the bastion dropping its connections mid-run fails every host behind it with that cause; --retry-failed converges', async () => {
    const work = await subdir('dies');
    const blocking = await writeStubPlaybooks(work, 'touch /run/kf-bastion-started\nwhile [ ! -e /run/kf-bastion-go ]; do sleep 0.2; done');
    const inventory = await writeStubInventory(fleet, fixture, work, hidden, { ssh: { proxyJump: `root@${bastion.address}` } });
    await Promise.all(hidden.map((h) => h.exec('rm -f /run/kf-bastion-started /run/kf-bastion-go')));

    const run = kubeforgeInBackground(['up', '-i', inventory, '--playbooks', blocking, '--json'], { env: { HOME: home } });
    await waitFor(
      'every hidden host to be running the blocking step',
      async () => (await Promise.all(hidden.map((h) => h.exec('test -e /run/kf-bastion-started', { allowFail: true })))).every((x) => x.code === 0),
      120_000,
    );
    await dropBastionConnections(bastion);
    const r = await run.done;
    // Let the orphaned step scripts end (their sessions are gone).
    await Promise.all(hidden.map((h) => h.exec('touch /run/kf-bastion-go')));

    expect(r.code, r.stdout + r.stderr).toBe(1);
    const summary = summaryOf(r.stdout);
    for (const h of summary.hosts) {
      expect(h.status, JSON.stringify(h)).toBe('failed');
      expect(h.reason, JSON.stringify(h)).toContain(`connection lost via bastion root@${bastion.address}:22`);
    }

    const retry = await kubeforge(['up', '-i', inventory, '--playbooks', blocking, '--retry-failed', '--json'], { env: { HOME: home }, timeoutMs: 180_000 });
    expect(retry.code, retry.stdout + retry.stderr).toBe(0);
    expect(summaryOf(retry.stdout).hosts.map((h) => [h.host, h.status])).toEqual(hidden.map((h) => [h.name, 'ok']));
  }, 300_000);

  it('a bastion whose link goes silent is found dead by its keepalives first, and named as the cause on every host', async () => {
    const work = await subdir('silent');
    const blocking = await writeStubPlaybooks(work, 'touch /run/kf-silent-started\nwhile [ ! -e /run/kf-silent-go ]; do sleep 0.2; done');
    const inventory = await writeStubInventory(fleet, fixture, work, hidden, { ssh: { proxyJump: `root@${bastion.address}`, keepaliveInterval: '1s' } });
    await Promise.all(hidden.map((h) => h.exec('rm -f /run/kf-silent-started /run/kf-silent-go')));

    const run = kubeforgeInBackground(['up', '-i', inventory, '--playbooks', blocking, '--json'], { env: { HOME: home } });
    await waitFor(
      'every hidden host to be running the blocking step',
      async () => (await Promise.all(hidden.map((h) => h.exec('test -e /run/kf-silent-started', { allowFail: true })))).every((x) => x.code === 0),
      120_000,
    );
    // No FIN, no RST: only keepalives can tell the path is gone.
    await bastion.setLink(false);
    let r;
    try {
      r = await run.done;
    } finally {
      await bastion.setLink(true);
      await Promise.all(hidden.map((h) => h.exec('touch /run/kf-silent-go')));
    }
    expect(r.code, r.stdout + r.stderr).toBe(1);
    for (const h of summaryOf(r.stdout).hosts) {
      expect(h.status, JSON.stringify(h)).toBe('failed');
      expect(h.reason, JSON.stringify(h)).toContain(`connection lost via bastion root@${bastion.address}:22`);
    }
  }, 240_000);

  it('Ctrl-C reaches through the bastion: the running commands on the hosts are killed, and every connection ends', async () => {
    const work = await subdir('interrupted');
    const sleeping = await writeStubPlaybooks(work, 'touch /run/kf-interrupt-started\nsleep 1000');
    const inventory = await writeStubInventory(fleet, fixture, work, hidden, { ssh: { proxyJump: `root@${bastion.address}` } });
    await Promise.all(hidden.map((h) => h.exec('rm -f /run/kf-interrupt-started')));

    const run = kubeforgeInBackground(['up', '-i', inventory, '--playbooks', sleeping, '--no-progress'], { env: { HOME: home } });
    await waitFor(
      'every hidden host to be running the sleeping step',
      async () => (await Promise.all(hidden.map((h) => h.exec('test -e /run/kf-interrupt-started', { allowFail: true })))).every((x) => x.code === 0),
      120_000,
    );
    run.child.kill('SIGINT');
    const r = await run.done;
    expect(r.code, r.stdout + r.stderr).toBe(130);
    // Killed by kubeforge before it exited, through the tunnel: nothing of the step is left.
    for (const host of hidden) expect(await host.sh('pgrep -x sleep || true'), host.name).toBe('');
    // The bastion serves no connection of the run any more (only its listener, PID 1).
    await waitFor('the bastion to hold no connection', async () => (await bastion.sh('pgrep sshd | grep -vx 1 || true')) === '', 30_000);
  }, 240_000);

  it("an unknown bastion host key is refused on every host; --accept-new-host-keys records it under the bastion's own address", async () => {
    const work = await subdir('unknown-bastion');
    const inventory = await writeStubInventory(fleet, fixture, work, hidden, { containerd });
    const knownHosts = path.join(work, 'known_hosts');
    const lines = (await fs.readFile(knownHosts, 'utf8')).split('\n');
    await fs.writeFile(knownHosts, lines.filter((l) => !l.startsWith(`${bastion.address} `)).join('\n'));

    const refused = await kubeforge(['up', '-i', inventory, '--playbooks', playbooks, '--json'], { env: { HOME: home }, timeoutMs: 180_000 });
    expect(refused.code, refused.stdout + refused.stderr).toBe(1);
    for (const h of summaryOf(refused.stdout).hosts) {
      expect(h.reason).toMatch(new RegExp(`${h.host}: via bastion root@jump:22 \\(${bastion.address.replaceAll('.', '\\.')} port 22\\): host key ssh-ed25519 SHA256:\\S+ is not in `));
    }
    expect(await fs.readFile(knownHosts, 'utf8')).not.toContain(`${bastion.address} `);

    const accepted = await kubeforge(['up', '-i', inventory, '--playbooks', playbooks, '--json', '--accept-new-host-keys'], { env: { HOME: home }, timeoutMs: 180_000 });
    expect(accepted.code, accepted.stdout + accepted.stderr).toBe(0);
    const recorded = (await fs.readFile(knownHosts, 'utf8')).split('\n').filter((l) => l.startsWith(`${bastion.address} `));
    expect(recorded).toEqual([`${bastion.address} ${bastion.record.hostKeyPublic.split(' ').slice(0, 2).join(' ')}`]);
  }, 240_000);

  it('a changed bastion host key is refused on every host behind it, naming the bastion; nothing reaches the hosts', async () => {
    const inventory = await writeStubInventory(fleet, fixture, await subdir('rekeyed'), hidden, { containerd });
    await changeHostKey(bastion);
    const logins = await Promise.all(hidden.map(async (h) => (await acceptedLogins(h)).length));

    const r = await kubeforge(['up', '-i', inventory, '--playbooks', playbooks, '--json'], { env: { HOME: home }, timeoutMs: 180_000 });
    expect(r.code, r.stdout + r.stderr).toBe(1);
    const summary = summaryOf(r.stdout);
    for (const h of summary.hosts) {
      expect(h.status).toBe('failed');
      expect(h.reason).toContain(`${h.host}: via bastion root@jump:22 (${bastion.address} port 22): HOST KEY CHANGED`);
    }
    expect(await Promise.all(hidden.map(async (h) => (await acceptedLogins(h)).length))).toEqual(logins);
  }, 240_000);

  /** A folder of its own per case: each inventory keeps its own ledger. */
  async function subdir(name: string): Promise<string> {
    const sub = path.join(dir, name);
    await fs.mkdir(sub, { recursive: true });
    return sub;
  }
});
