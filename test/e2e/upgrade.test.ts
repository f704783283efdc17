// Kubernetes upgrades through `kubeforge up` on 3 full hosts (cp1 + 2 workers), stand-ins of
// 1.30.2 then 1.31.1: a skipped minor is refused before anything changes; the upgrade goes in
// kubeadm's order (upgrade plan + apply on the init host, then each worker: upgrade node, drain,
// kubelet swapped and restarted, Ready at 1.31.1, uncordon, one at a time), read back from the
// stand-ins' own logs; a failure on the second worker stops the rollout there with the first
// worker upgraded and schedulable, and a rerun finishes; one more run changes nothing.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildArtifacts, buildKubernetesStandinBundle, type Artifacts } from '../hosts/artifacts.js';
import { startFleet, type Fleet } from '../hosts/fleet.js';
import type { TestHost } from '../hosts/host.js';
import { writeFleetInventory } from '../hosts/inventory.js';
import { buildNodeArtifacts } from '../hosts/node-artifacts.js';
import { run } from '../hosts/exec.js';
import { e2eUnavailableReason, kubeforge } from './support.js';

const unavailable = e2eUnavailableReason();

interface LogEntry {
  time: string;
  argv: string[];
  exit?: number;
  error?: string;
  [key: string]: unknown;
}

async function logOf(host: TestHost, file: string): Promise<LogEntry[]> {
  const text = await host.sh(`cat ${file} 2>/dev/null || true`);
  return text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as LogEntry);
}
const kubeadmLog = (h: TestHost) => logOf(h, '/var/log/kubeadm-standin.log');
const kubectlLog = (h: TestHost) => logOf(h, '/var/log/kubectl-standin.log');
const upgradeCalls = (log: LogEntry[]) => log.filter((e) => e.argv[0] === 'upgrade');

interface NodeFacts {
  name: string;
  kubelet: string;
  ready: boolean;
  unschedulable: boolean;
}
async function nodes(cp: TestHost): Promise<Map<string, NodeFacts>> {
  const list = JSON.parse(await cp.sh('kubectl --kubeconfig /etc/kubernetes/admin.conf get nodes -o json')) as {
    items: Array<{ metadata: { name: string }; spec?: { unschedulable?: boolean }; status: { nodeInfo: { kubeletVersion: string }; conditions: Array<{ type: string; status: string }> } }>;
  };
  return new Map(
    list.items.map((n) => [
      n.metadata.name,
      {
        name: n.metadata.name,
        kubelet: n.status.nodeInfo.kubeletVersion,
        ready: n.status.conditions.some((c) => c.type === 'Ready' && c.status === 'True'),
        unschedulable: n.spec?.unschedulable === true,
      },
    ]),
  );
}

/**
 * Everything an `up` could change on a host, hashed: binaries, staged binaries, markers,
 * manifests, the kubeadm upgrade calls, the services' start times. (kubeadm version and kubectl
 * reads happen on every run: the verify step, the versions and readiness.)
 */
async function fingerprint(h: TestHost): Promise<string> {
  const text = await h.sh(
    'cd / && sha256sum usr/local/bin/kubeadm usr/local/bin/kubelet usr/local/bin/kubectl etc/kubernetes/manifests/*.yaml var/lib/kubeforge/steps/* 2>/dev/null; '
      + 'ls var/lib/kubeforge/upgrade/bin 2>/dev/null; echo "kubeadm upgrade calls: $(grep -c \'"argv": \\["upgrade"\' var/log/kubeadm-standin.log)"; '
      + 'systemctl show -p ActiveEnterTimestamp kubelet containerd',
  );
  return text;
}

describe.skipIf(unavailable)('Kubernetes upgrades on 3 full hosts', () => {
  let fleet: Fleet;
  let artifacts: Artifacts;
  let dir: string;
  let inventory130: string;
  let inventory131: string;
  let inventory132: string;
  let inventoryContainerd: string;
  let inventoryConfigFault: string;
  let cp: TestHost;
  let w1: TestHost;
  let w2: TestHost;

  beforeAll(async () => {
    let bundle131: string;
    let bundle132: string;
    let node131: Awaited<ReturnType<typeof buildNodeArtifacts>>;
    let node132: Awaited<ReturnType<typeof buildNodeArtifacts>>;
    [fleet, artifacts] = await Promise.all([startFleet({ full: 3 }), buildArtifacts('1.30.2')]);
    [bundle131, bundle132, node131, node132] = await Promise.all([
      buildKubernetesStandinBundle('1.31.1'),
      buildKubernetesStandinBundle('1.32.0'),
      buildNodeArtifacts('1.31.1'),
      buildNodeArtifacts('1.32.0'),
    ]);
    [cp, w1, w2] = fleet.full as [TestHost, TestHost, TestHost];
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'kf-upgrade-'));
    const write = async (name: string, a: Artifacts, overrides?: Record<string, unknown>) => {
      const file = await writeFleetInventory(fleet, path.join(dir, name), { artifacts: a, clusterName: 'e2e-upgrade', hosts: fleet.full.slice(0, 3), ...(overrides ? { overrides } : {}) });
      // One ledger and one kubeconfig for all three: the same cluster, another inventory version.
      const target = path.join(dir, `inventory-${name}.yaml`);
      await fs.rename(file, target);
      return target;
    };
    inventory130 = await write('130', artifacts);
    inventory131 = await write('131', { ...artifacts, kubernetesBundle: bundle131, kubernetesVersion: '1.31.1', node: node131 });
    inventory132 = await write('132', { ...artifacts, kubernetesBundle: bundle132, kubernetesVersion: '1.32.0', node: node132 });
    // A rebuilt containerd bundle at the same version: its containerd binary differs (bytes
    // appended after the ELF image, which the loader ignores), as a rebuild's would.
    const stage = path.join(dir, 'containerd-rebuilt');
    await fs.mkdir(stage, { recursive: true });
    await run('tar', ['-C', stage, '-xzf', artifacts.containerdBundle]);
    await fs.appendFile(path.join(stage, 'bin', 'containerd'), 'kubeforge e2e: a rebuilt containerd\n');
    const rebuilt = path.join(dir, 'containerd-rebuilt.tar.gz');
    await run('tar', ['-C', stage, '--mtime=@86400', '-czf', rebuilt, 'bin', 'sbin']);
    inventoryContainerd = await write('ctd', { ...artifacts, kubernetesBundle: bundle131, kubernetesVersion: '1.31.1', node: node131, containerdBundle: rebuilt });
    inventoryConfigFault = await write('ctd-config', { ...artifacts, kubernetesBundle: bundle131, kubernetesVersion: '1.31.1', node: node131, containerdBundle: rebuilt }, {
      containerd: { bundle: rebuilt, version: artifacts.containerdVersion, registryConfigPath: '/etc/containerd/certs-fault.d' },
    });
    const first = await kubeforge(['up', '-i', inventory130]);
    expect(first.code, first.stdout + first.stderr).toBe(0);
  });

  afterAll(async () => {
    await fleet?.destroy();
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  it('refuses 1.30 → 1.32 with the path to take, before anything changes on any host', async () => {
    const kubeadmCalls = (h: TestHost) => h.sh('wc -l < /var/log/kubeadm-standin.log');
    const before = await Promise.all([cp, w1, w2].map(fingerprint));
    const callsBefore = await Promise.all([cp, w1, w2].map(kubeadmCalls));
    const r = await kubeforge(['up', '-i', inventory132]);
    expect(r.code, r.stdout + r.stderr).toBe(2);
    expect(r.stderr).toContain('kubernetes.version: the cluster runs Kubernetes 1.30.2 and the inventory says 1.32.0');
    expect(r.stderr).toContain('upgrade to 1.31.x first, then 1.32.x');
    expect(await Promise.all([cp, w1, w2].map(fingerprint))).toEqual(before);
    expect(await Promise.all([cp, w1, w2].map(kubeadmCalls))).toEqual(callsBefore);
    const n = await nodes(cp);
    expect([...n.values()].map((x) => x.kubelet)).toEqual(['v1.30.2', 'v1.30.2', 'v1.30.2']);
  });

  it('plan shows the upgrade up would make, and changes nothing', async () => {
    const before = await Promise.all([cp, w1, w2].map(fingerprint));
    const r = await kubeforge(['plan', '-i', inventory131, '--max-unavailable', '2']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain(`~ upgrade 1.30.2 → 1.31.1: apply on ${cp.name}, workers ${w1.name}, ${w2.name} in batches of 2`);
    const refused = await kubeforge(['plan', '-i', inventory132]);
    expect(refused.stdout).toContain('! up would refuse: the cluster runs Kubernetes 1.30.2 and the inventory says 1.32.0');
    expect(await Promise.all([cp, w1, w2].map(fingerprint))).toEqual(before);
  });

  it('upgrades in kubeadm\'s order; a failure on the second worker stops there, the first stays upgraded and schedulable', async () => {
    // The kubeadm stand-in's fault file: w2's next `kubeadm upgrade node` fails, before it changes anything.
    await w2.sh('mkdir -p /var/lib/kubeadm-standin && touch /var/lib/kubeadm-standin/fail-next-upgrade-node');
    const r = await kubeforge(['up', '-i', inventory131]);
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.stdout).toContain(`upgrade 1.30.2 → 1.31.1: apply on ${cp.name}, workers ${w1.name}, ${w2.name} in batches of 1`);
    expect(r.stdout).toMatch(new RegExp(`^${w2.name}\\s+worker\\s+FAILED\\s`, 'm'));
    expect(r.stdout).toContain(`${w2.name} cluster/upgrade failed: kubeadm upgrade node on ${w2.name} failed (exit 1): kubeadm STAND-IN: fault injected`);
    expect(r.stdout).toContain(`${w2.name} hint: node ${w2.name}: the node was not drained and its kubelet still runs 1.30.2; it is schedulable`);

    const n = await nodes(cp);
    expect(n.get(cp.name)).toMatchObject({ kubelet: 'v1.31.1', ready: true, unschedulable: false });
    expect(n.get(w1.name)).toMatchObject({ kubelet: 'v1.31.1', ready: true, unschedulable: false });
    expect(n.get(w2.name)).toMatchObject({ kubelet: 'v1.30.2', ready: true, unschedulable: false });
    // The API server serves the new version; kubeadm-config says so too.
    expect(JSON.parse(await cp.sh('kubectl --kubeconfig /etc/kubernetes/admin.conf get --raw /version')).gitVersion).toBe('v1.31.1');

    // Order, from the stand-ins' logs: plan then apply on cp1 (with --yes, the version as argument),
    // then w1's upgrade node, drain, uncordon; only then w2's attempt.
    const cpCalls = upgradeCalls(await kubeadmLog(cp));
    expect(cpCalls.map((e) => [e.argv.slice(0, 3).join(' '), e.exit])).toEqual([['upgrade plan v1.31.1', 0], ['upgrade apply v1.31.1', 0]]);
    expect(cpCalls[1]!.argv).toContain('--yes');
    const w1Calls = upgradeCalls(await kubeadmLog(w1));
    expect(w1Calls.map((e) => [e.argv.join(' '), e.exit])).toEqual([['upgrade node', 0]]);
    const w2Calls = upgradeCalls(await kubeadmLog(w2));
    expect(w2Calls.map((e) => [e.argv.join(' '), e.exit])).toEqual([['upgrade node', 1]]);
    const nodeVerbs = ['drain', 'uncordon', 'cordon'];
    const kubectl = (await kubectlLog(cp)).filter((e) => e.argv.some((a) => nodeVerbs.includes(a)));
    const verbs = kubectl.map((e) => `${e.argv.find((a) => nodeVerbs.includes(a))} ${e.argv.find((a) => [cp.name, w1.name, w2.name].includes(a))}`);
    expect(verbs).toEqual([`drain ${cp.name}`, `uncordon ${cp.name}`, `drain ${w1.name}`, `uncordon ${w1.name}`]);
    const at = (e: LogEntry) => Date.parse(e.time);
    const uncordonCp = kubectl[1]!;
    const drainW1 = kubectl[2]!;
    const uncordonW1 = kubectl[3]!;
    expect(at(cpCalls[1]!)).toBeLessThan(at(uncordonCp));
    expect(at(uncordonCp)).toBeLessThan(at(w1Calls[0]!));
    expect(at(w1Calls[0]!)).toBeLessThan(at(drainW1));
    expect(at(uncordonW1)).toBeLessThan(at(w2Calls[0]!));

    // The kubelet on each upgraded host was restarted once, after its drain (the binaries step only staged it).
    const kubeletStarts = (await logOf(w1, '/var/log/kubelet-standin.log')).filter((e) => e.event === 'started');
    expect(kubeletStarts.at(-1)!.kubernetesVersion).toBe('v1.31.1');
    expect(at(kubeletStarts.at(-1)!)).toBeGreaterThan(at(drainW1));
    expect(kubeletStarts.filter((e) => e.kubernetesVersion === 'v1.31.1')).toHaveLength(1);
    // w2: its new kubelet waits, staged, and its old one still runs.
    expect(await w2.sh('ls /var/lib/kubeforge/upgrade/bin')).toMatch(/kubelet/);
    expect(await w2.sh('/usr/local/bin/kubelet --version')).toContain('v1.30.2');

    // The ledger says where it stopped.
    const ledger = JSON.parse(await fs.readFile(path.join(dir, '.kubeforge', 'last-run.json'), 'utf8')) as { hosts: Array<{ host: string; status: string; steps: Array<{ key: string; status: string }> }> };
    const w2Result = ledger.hosts.find((h) => h.host === w2.name)!;
    expect(w2Result.status).toBe('failed');
    expect(w2Result.steps.find((s) => s.key === 'cluster/upgrade')?.status).toBe('failed');
    expect(ledger.hosts.find((h) => h.host === w1.name)?.steps.find((s) => s.key === 'cluster/upgrade')?.status).toBe('changed');
  });

  it('a rerun continues from the stopped worker only, and ends with every node Ready at 1.31.1', async () => {
    const w1Before = upgradeCalls(await kubeadmLog(w1)).length;
    const cpBefore = upgradeCalls(await kubeadmLog(cp)).length;
    const r = await kubeforge(['up', '-i', inventory131]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain(`upgrade 1.30.2 → 1.31.1: workers ${w2.name} in batches of 1`);
    expect(upgradeCalls(await kubeadmLog(w1))).toHaveLength(w1Before);
    expect(upgradeCalls(await kubeadmLog(cp))).toHaveLength(cpBefore);
    expect(upgradeCalls(await kubeadmLog(w2)).map((e) => e.exit)).toEqual([1, 0]);
    for (const node of (await nodes(cp)).values()) expect(node).toMatchObject({ kubelet: 'v1.31.1', ready: true, unschedulable: false });
  });

  it('a second run at 1.31.1 changes nothing', async () => {
    const before = await Promise.all([cp, w1, w2].map(fingerprint));
    const r = await kubeforge(['up', '-i', inventory131]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).not.toContain('upgrade 1.3');
    expect(r.stdout).not.toMatch(/^\S+ \S+ \S+ changed/m);
    for (const h of [cp, w1, w2]) expect(r.stdout).toMatch(new RegExp(`^${h.name}\\s+\\S+\\s+ok\\s+Ready\\s+0 changed`, 'm'));
    expect(await Promise.all([cp, w1, w2].map(fingerprint))).toEqual(before);
  });

  it('a new containerd bundle on the converged cluster rolls: each node drained, containerd and the kubelet restarted, Ready, uncordoned, one at a time', async () => {
    const started = (h: TestHost) => h.sh('systemctl show -p ExecMainStartTimestampMonotonic --value containerd');
    const startedBefore = await Promise.all([cp, w1, w2].map(started));
    const mark = new Date().toISOString();
    const r = await kubeforge(['up', '-i', inventoryContainerd]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const startedAfter = await Promise.all([cp, w1, w2].map(started));
    for (const i of [0, 1, 2]) expect(startedAfter[i], 'containerd restarted').not.toBe(startedBefore[i]);
    for (const h of [cp, w1, w2]) expect(await h.sh('tail -c 40 /usr/local/bin/containerd')).toContain('a rebuilt containerd');
    for (const h of [cp, w1, w2]) expect(r.stdout).toMatch(new RegExp(`^\\S+ ${h.name} cluster/containerd-restart changed`, 'm'));
    const nodeVerbs = ['drain', 'uncordon'];
    const calls = (await kubectlLog(cp)).filter((e) => e.time > mark && e.argv.some((a) => nodeVerbs.includes(a)));
    const at = (e: LogEntry) => Date.parse(e.time);
    expect(calls.map((e) => `${e.argv.find((a) => nodeVerbs.includes(a))} ${e.argv.find((a) => [cp.name, w1.name, w2.name].includes(a))}`)).toEqual(
      [cp, w1, w2].flatMap((h) => [`drain ${h.name}`, `uncordon ${h.name}`]),
    );
    // Each kubelet restarted (after its containerd) between its node's drain and uncordon.
    for (const [i, h] of [cp, w1, w2].entries()) {
      const starts = (await logOf(h, '/var/log/kubelet-standin.log')).filter((e) => e.event === 'started' && e.time > mark);
      expect(starts, h.name).toHaveLength(1);
      expect(at(starts[0]!)).toBeGreaterThan(at(calls[2 * i]!));
      expect(at(starts[0]!)).toBeLessThan(at(calls[2 * i + 1]!));
      expect((await h.sh('test -f /var/lib/kubeforge/upgrade/containerd-restart && echo pending || echo done')).trim()).toBe('done');
    }
    for (const node of (await nodes(cp)).values()) expect(node).toMatchObject({ kubelet: 'v1.31.1', ready: true, unschedulable: false });
    // And again: nothing left to roll.
    const again = await kubeforge(['up', '-i', inventoryContainerd]);
    expect(again.code, again.stdout + again.stderr).toBe(0);
    expect(again.stdout).not.toContain('cluster/containerd-restart');
  });

  it('a config containerd does not start on: put back on that node, which is uncordoned; the rollout stops there; a rerun finishes', async () => {
    // Test-only fault on w1: its containerd refuses to start while its config names certs-fault.d.
    await w1.sh(
      'mkdir -p /etc/systemd/system/containerd.service.d && printf \'[Service]\\nExecStartPre=/bin/sh -c "! grep -q certs-fault.d /etc/containerd/config.toml"\\n\' > /etc/systemd/system/containerd.service.d/fault.conf && systemctl daemon-reload',
    );
    const r = await kubeforge(['up', '-i', inventoryConfigFault]);
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.stdout).toMatch(new RegExp(`^\\S+ ${cp.name} cluster/containerd-restart changed`, 'm'));
    expect(r.stdout).toContain(`${w1.name} cluster/containerd-restart failed: containerd on ${w1.name} did not start on its new files`);
    expect(r.stdout).toContain(`${w1.name} hint: node ${w1.name}: containerd runs on its previous config again (put back, the restart still pending); the node was uncordoned`);
    expect(r.stdout).toMatch(new RegExp(`^${w2.name}\\s+worker\\s+BLOCKED`, 'mi'));
    expect(await cp.sh('grep -c certs-fault.d /etc/containerd/config.toml')).toMatch(/^[1-9]/);
    expect((await w1.sh('grep -c certs-fault.d /etc/containerd/config.toml || true')).trim()).toBe('0');
    expect((await w1.sh('systemctl is-active containerd')).trim()).toBe('active');
    expect((await nodes(cp)).get(w1.name)).toMatchObject({ ready: true, unschedulable: false });
    expect((await nodes(cp)).get(w2.name)).toMatchObject({ ready: true, unschedulable: false });

    await w1.sh('rm /etc/systemd/system/containerd.service.d/fault.conf && systemctl daemon-reload');
    const again = await kubeforge(['up', '-i', inventoryConfigFault]);
    expect(again.code, again.stdout + again.stderr).toBe(0);
    for (const h of [w1, w2]) expect(again.stdout).toMatch(new RegExp(`^\\S+ ${h.name} cluster/containerd-restart changed`, 'm'));
    expect(again.stdout).not.toMatch(new RegExp(`^\\S+ ${cp.name} cluster/containerd-restart`, 'm'));
    for (const h of [cp, w1, w2]) expect(await h.sh('grep -c certs-fault.d /etc/containerd/config.toml')).toMatch(/^[1-9]/);
    for (const node of (await nodes(cp)).values()) expect(node).toMatchObject({ ready: true, unschedulable: false });
  });

  it('without an answering API server there is no skew check: every host blocked, nothing changed', async () => {
    await cp.sh('systemctl stop kube-apiserver-standin');
    try {
      const before = await Promise.all([cp, w1, w2].map(fingerprint));
      const r = await kubeforge(['up', '-i', inventory132]);
      expect(r.code, r.stdout + r.stderr).toBe(1);
      for (const h of [cp, w1, w2]) expect(r.stdout).toMatch(new RegExp(`^${h.name}\\s+\\S+\\s+BLOCKED\\s.*cannot read the cluster's versions through ${cp.name}`, 'm'));
      expect(await Promise.all([cp, w1, w2].map(fingerprint))).toEqual(before);
    } finally {
      await cp.sh('systemctl start kube-apiserver-standin');
    }
  });
});
