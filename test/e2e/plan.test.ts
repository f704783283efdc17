// `kubeforge plan` end to end on a converged cluster of 2 full hosts (a control plane and a
// worker, brought up by a real `up`): plan lists nothing; after a containerd setting changes in
// the inventory it shows exactly that step on each host with the diff of config.toml; a host
// whose key is not in known_hosts is reported, never trusted or recorded; and none of it
// changed anything — every file kubeforge manages, the markers, the services, the ledger of
// runs and known_hosts are the same before and after (the kubeadm stand-in logs no call but the
// `kubeadm version` that the kubernetes/verify step asks in every gather, as up does).
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildArtifacts, type Artifacts } from '../hosts/artifacts.js';
import { startFleet, type Fleet } from '../hosts/fleet.js';
import type { TestHost } from '../hosts/host.js';
import { writeFleetInventory } from '../hosts/inventory.js';
import { loadInventory } from '../../src/inventory/index.js';
import { loadPlaybooks } from '../../src/playbook/load.js';
import { planCluster } from '../../src/playbook/plan.js';
import type { PlanReport } from '../../src/commands/plan/report.js';
import { e2eUnavailableReason, kubeforge } from './support.js';

const unavailable = e2eUnavailableReason();

/** Where kubeforge, kubeadm and the kubelet keep what a run writes (besides the steps' own files). */
const MANAGED_DIRS = ['/var/lib/kubeforge', '/etc/kubernetes', '/etc/containerd', '/etc/cni', '/opt/cni/bin', '/usr/local/bin', '/etc/modules-load.d', '/etc/sysctl.d', '/etc/systemd/system'];
const SERVICES = ['containerd', 'kubelet'];
/** Written by steps' commands rather than as files (the /etc/hosts block, swap off). */
const OTHER_FILES = ['/etc/hosts', '/etc/fstab'];

/** The kubectl stand-in's calls but `get` (plan reads the cluster's versions and nodes, as up decides an upgrade from them). */
async function kubectlCalls(host: TestHost): Promise<string> {
  const log = await host.sh('cat /var/log/kubectl-standin.log 2>/dev/null || true');
  const calls = log.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { argv: string[] });
  const verb = (argv: string[]) => argv.find((a, i) => !a.startsWith('-') && !(argv[i - 1] ?? '').match(/^--(kubeconfig|request-timeout)$/));
  return calls.filter((c) => verb(c.argv) !== 'get').map((c) => JSON.stringify(c)).join('\n');
}

/** The kubeadm stand-in's calls but `kubeadm version` (which the kubernetes/verify step asks in every gather, up's too). */
async function kubeadmCalls(host: TestHost): Promise<string> {
  const log = await host.sh('cat /var/log/kubeadm-standin.log 2>/dev/null || true');
  const calls = log.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { argv: string[] });
  expect(calls.some((c) => c.argv[0] === 'init' || c.argv[0] === 'join'), `${host.name} kubeadm log`).toBe(true);
  return calls.filter((c) => c.argv[0] !== 'version').map((c) => JSON.stringify(c)).join('\n');
}

/** Everything a plan could have changed on one host, as text to compare. */
async function hostState(host: TestHost, managedFiles: string[]): Promise<string> {
  const [files, markers, services, kubeadm, kubectl] = await Promise.all([
    // The steps' files and every file under the directories runs write to: content and mode.
    host.sh(
      `{ for f in ${[...managedFiles, ...OTHER_FILES].map((f) => `'${f}'`).join(' ')}; do [ -f "$f" ] && echo "$f"; done; find ${MANAGED_DIRS.join(' ')} -xdev -type f 2>/dev/null; } | sort -u | while read -r f; do printf '%s %s\\n' "$(stat -c '%a %s %Y' "$f")" "$(sha256sum "$f")"; done`,
    ),
    // The markers and kubeforge's state directory as a listing (names, types, sizes, times).
    host.sh('find /var/lib/kubeforge -printf "%y %m %s %T@ %p\\n" | sort -k5'),
    host.sh(`systemctl show -p ActiveEnterTimestamp,MainPID,NRestarts ${SERVICES.join(' ')}`),
    kubeadmCalls(host),
    kubectlCalls(host),
  ]);
  expect(markers, `${host.name} has step markers`).toMatch(/\/var\/lib\/kubeforge\/steps\/containerd\.config$/m);
  expect(services, `${host.name} services running`).toMatch(/MainPID=[1-9]/);
  return `${files}\n--markers--\n${markers}\n--services--\n${services}\n--kubeadm--\n${kubeadm}\n--kubectl--\n${kubectl}`;
}

/** The laptop's side: the ledger (runs, last-run.json, state.json, admin.conf) and known_hosts. */
async function localState(dir: string): Promise<string> {
  const lines: string[] = [];
  const walk = async (d: string): Promise<void> => {
    for (const e of (await fs.readdir(d, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name))) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else lines.push(`${path.relative(dir, p)} ${createHash('sha256').update(await fs.readFile(p)).digest('hex')}`);
    }
  };
  await walk(dir);
  return lines.join('\n');
}

describe.skipIf(unavailable)('kubeforge plan on a converged cluster of 2 full hosts', () => {
  let fleet: Fleet;
  let artifacts: Artifacts;
  let dir: string;
  let inventory: string;
  let hosts: TestHost[];
  let managedFiles: string[];
  let before: { hosts: string[]; local: string };
  let freshPlan: Awaited<ReturnType<typeof kubeforge>>;
  let freshText: Awaited<ReturnType<typeof kubeforge>>;
  let freshLeftovers: string[];

  const snapshot = async () => ({ hosts: await Promise.all(hosts.map((h) => hostState(h, managedFiles))), local: await localState(dir) });

  beforeAll(async () => {
    [fleet, artifacts] = await Promise.all([startFleet({ full: 2 }), buildArtifacts('1.30.2')]);
    hosts = fleet.full;
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'kf-plan-'));
    inventory = await writeFleetInventory(fleet, dir, { artifacts, clusterName: 'plan' });
    // On the fresh hosts first: everything would happen, and nothing may.
    freshPlan = await kubeforge(['plan', '-i', inventory, '--json', '--detailed-exitcode']);
    freshText = await kubeforge(['plan', '-i', inventory]);
    freshLeftovers = await Promise.all(hosts.map((h) => h.sh('ls -d /var/lib/kubeforge /etc/containerd/config.toml /usr/local/bin/containerd 2>/dev/null || true')));
    const up = await kubeforge(['up', '-i', inventory]);
    expect(up.code, up.stdout + up.stderr).toBe(0);
    // Every file the playbooks manage on these hosts, as the planner renders them.
    const { cluster } = await loadInventory(inventory);
    managedFiles = [...new Set(planCluster(cluster, await loadPlaybooks()).flatMap((p) => p.steps.flatMap((s) => s.files.map((f) => f.path))))];
    expect(managedFiles).toContain('/etc/containerd/config.toml');
    before = await snapshot();
  });

  afterAll(async () => {
    await fleet?.destroy();
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  it('on fresh hosts, shows every step, the bundles to send, kubeadm init, the join and the add-on — and leaves the hosts untouched', () => {
    expect(freshPlan.code, freshPlan.stdout + freshPlan.stderr).toBe(2);
    const report = JSON.parse(freshPlan.stdout) as PlanReport;
    expect(report).toMatchObject({ changes: true, problems: false });
    for (const h of report.hosts) {
      const keys = h.steps.map((s) => s.key);
      expect(keys, h.host).toEqual(expect.arrayContaining(['prepare/os-packages', 'containerd/binaries', 'containerd/config', 'kubernetes/kubelet-unit']));
      expect(h.steps.every((s) => s.action === 'run' && s.reasons.includes('never ran on this host')), h.host).toBe(true);
      const config = h.steps.find((s) => s.key === 'containerd/config')!;
      expect(config.files.find((f) => f.path === '/etc/containerd/config.toml')).toMatchObject({ change: 'create', mode: { planned: '644' } });
      expect(config.files[0]!.diff).toMatch(/^\+SystemdCgroup = true$/m);
      const binaries = h.steps.find((s) => s.key === 'containerd/binaries')!;
      expect(binaries.bundles).toEqual([expect.objectContaining({ kind: 'containerd', onHost: false })]);
      expect(binaries.check).toMatchObject({ command: 'test -x /usr/local/bin/containerd && test -x /usr/local/bin/ctr', exitCode: 1 });
    }
    expect(report.clusterActions).toEqual([
      { action: 'init', host: 'full-1', certificateKey: false },
      { action: 'join', host: 'full-2', role: 'worker', material: 'init' },
      { action: 'apply-addon', on: 'full-1', manifest: expect.any(String) },
      { action: 'wait-ready', hosts: ['full-1', 'full-2'], timeoutMs: 300_000 },
    ]);
    expect(freshText.code, freshText.stderr).toBe(0);
    expect(freshText.stdout).toContain('+ kubeadm init on full-1');
    expect(freshText.stdout).toContain('+ full-2 joins as a worker');
    expect(freshText.stdout).toMatch(/bundle containerd\S* \([\d.]+ MiB\): would be sent/);
    expect(freshLeftovers).toEqual(['', '']);
  });

  it('lists nothing on the converged cluster: exit 0, and 0 with --detailed-exitcode', async () => {
    const plain = await kubeforge(['plan', '-i', inventory]);
    expect(plain.code, plain.stdout + plain.stderr).toBe(0);
    expect(plain.stdout).toMatch(/^nothing to do on 2 hosts \(\d+ steps unchanged\): full-1, full-2$/m);
    expect(plain.stdout).toMatch(/^cluster:\n {2}nothing to do$/m);
    expect(plain.stdout).toContain('no changes: every host and the cluster are as the inventory says');
    const detailed = await kubeforge(['plan', '-i', inventory, '--detailed-exitcode']);
    expect(detailed.code, detailed.stdout + detailed.stderr).toBe(0);
    const json = await kubeforge(['plan', '-i', inventory, '--json']);
    expect(json.code, json.stderr).toBe(0);
    const report = JSON.parse(json.stdout) as PlanReport;
    expect(report).toMatchObject({ cluster: 'plan', changes: false, problems: false, clusterActions: [] });
    expect(report.hosts.map((h) => [h.host, h.status, h.steps.length])).toEqual([
      ['full-1', 'planned', 0],
      ['full-2', 'planned', 0],
    ]);
  });

  it('after a containerd setting changes, exits 2 with --detailed-exitcode and shows exactly that step on each host, with the diff of config.toml', async () => {
    await writeFleetInventory(fleet, dir, { artifacts, clusterName: 'plan', overrides: { containerd: { registryConfigPath: '/etc/containerd/mirrors.d' } } });
    const r = await kubeforge(['plan', '-i', inventory, '--detailed-exitcode']);
    expect(r.code, r.stdout + r.stderr).toBe(2);
    for (const h of hosts) {
      expect(r.stdout).toMatch(new RegExp(`^${h.name} \\((control-plane|worker)\\): 1 step would run, \\d+ verif(y|ies) after them, \\d+ unchanged$`, 'm'));
      expect(r.stdout).toContain(`--- ${h.name}:/etc/containerd/config.toml`);
    }
    // The changed line, both ways, and nothing else of the file changed.
    expect(r.stdout.match(/^ +-config_path = "\/etc\/containerd\/certs\.d"$/gm)).toHaveLength(2);
    expect(r.stdout.match(/^ +\+config_path = "\/etc\/containerd\/mirrors\.d"$/gm)).toHaveLength(2);
    expect(r.stdout.match(/^ +[-+](?![-+]{2} )/gm)).toHaveLength(4);

    const json = await kubeforge(['plan', '-i', inventory, '--json', '--detailed-exitcode']);
    expect(json.code, json.stderr).toBe(2);
    const report = JSON.parse(json.stdout) as PlanReport;
    expect(report).toMatchObject({ changes: true, problems: false });
    for (const h of report.hosts) {
      expect(h.steps.map((s) => s.key), h.host).toEqual(['containerd/config']);
      const [step] = h.steps;
      expect(step!.reasons).toEqual(['its inputs changed since it last ran', '/etc/containerd/config.toml differs']);
      expect(step!.files.map((f) => [f.path, f.change])).toEqual([['/etc/containerd/config.toml', 'modify']]);
      expect(step!.files[0]!.diff).toMatch(/^-config_path = "\/etc\/containerd\/certs\.d"\n\+config_path = "\/etc\/containerd\/mirrors\.d"$/m);
      expect(step!.bundles).toEqual([]);
    }
    // No kubeadm or add-on work: only the Ready wait that follows a change on a node.
    expect(report.clusterActions.filter((a) => a.action !== 'wait-ready')).toEqual([]);
    const limited = await kubeforge(['plan', '-i', inventory, '--json', '--limit', 'role=worker']);
    expect(limited.code, limited.stderr).toBe(0);
    expect((JSON.parse(limited.stdout) as PlanReport).hosts.map((h) => [h.host, h.steps.map((st) => st.key)])).toEqual([['full-2', ['containerd/config']]]);
  });

  it('reports a host whose key is not in known_hosts, trusting and recording nothing (even with ssh.acceptNewHostKeys)', async () => {
    const knownHosts = path.join(dir, 'known_hosts.cp-only');
    const all = await fs.readFile(path.join(dir, 'known_hosts'), 'utf8');
    const worker = hosts[1]!;
    await fs.writeFile(knownHosts, all.split('\n').filter((l) => l && !l.includes(worker.address)).join('\n') + '\n', { mode: 0o600 });
    const keysBefore = await fs.readFile(knownHosts, 'utf8');
    const other = path.join(dir, 'other');
    await fs.mkdir(other);
    const otherInventory = await writeFleetInventory(fleet, other, { artifacts, clusterName: 'plan', overrides: { ssh: { knownHostsFile: knownHosts, acceptNewHostKeys: true } } });
    const r = await kubeforge(['plan', '-i', otherInventory, '--detailed-exitcode']);
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.stdout).toMatch(new RegExp(`^${worker.name} \\(worker\\): NOT PLANNED: connect: .*host key \\S+ SHA256:\\S+ is not in `, 'm'));
    expect(r.stdout).toContain('plan never trusts or records a host key');
    expect(await fs.readFile(knownHosts, 'utf8')).toBe(keysBefore);
    await fs.rm(other, { recursive: true, force: true });
    await fs.rm(knownHosts);
  });

  it('reports bad input before connecting, as up does: exit 2, and 1 under --detailed-exitcode (where 2 means changes)', async () => {
    const bad = path.join(dir, 'bad');
    await fs.mkdir(bad);
    const badInventory = path.join(bad, 'inventory.yaml');
    await fs.writeFile(badInventory, (await fs.readFile(inventory, 'utf8')).replace(/^containerd:\n/m, 'containerd:\n  registryConfigPth: /etc/containerd/x.d\n'));
    const plain = await kubeforge(['plan', '-i', badInventory]);
    expect(plain.code, plain.stdout + plain.stderr).toBe(2);
    expect(plain.stderr).toMatch(/inventory\.yaml:\d+:\d+: .*registryConfigPth/);
    expect(plain.stdout).toBe('');
    const detailed = await kubeforge(['plan', '-i', badInventory, '--detailed-exitcode']);
    expect(detailed.code, detailed.stdout + detailed.stderr).toBe(1);
    expect(detailed.stderr).toMatch(/registryConfigPth/);
    const flag = await kubeforge(['plan', '-i', inventory, '--detailed-exitcode', '--limt', 'full-1']);
    expect(flag.code, flag.stderr).toBe(1);
    expect(flag.stderr).toMatch(/unknown option '--limt'/);
    await fs.rm(bad, { recursive: true, force: true });
  });

  it('changed nothing: files, modes, markers, services, the ledger of runs and known_hosts are as before', async () => {
    await writeFleetInventory(fleet, dir, { artifacts, clusterName: 'plan' });
    const after = await snapshot();
    for (const [i, h] of hosts.entries()) expect(after.hosts[i], h.name).toBe(before.hosts[i]);
    expect(after.local).toBe(before.local);
    // The ledger still records the one run of `up`, and nothing else.
    expect((await fs.readdir(path.join(dir, '.kubeforge', 'runs'))).length).toBe(1);
  });
});
