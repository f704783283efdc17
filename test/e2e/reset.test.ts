// `kubeforge reset` end to end on 2 full hosts (the init control plane and a worker), after a
// real `up`: a worker is drained (its pods evicted through the eviction API, DaemonSet pods left)
// and deleted from the cluster, and keeps nothing of kubeforge's; `up` brings it back Ready;
// the init host is refused while the worker remains (nothing touched); without --yes and without
// a terminal nothing happens; `reset --all` leaves neither host anything of kubeforge's.
// Every check on a host goes through an independent OpenSSH client (support.ts ssh()).
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
import { PtySession } from '../hosts/pty.js';
import { CLI, e2eUnavailableReason, kubeforge, ssh } from './support.js';

const unavailable = e2eUnavailableReason();

/**
 * What kubeforge puts on a node, named here independently of its playbooks (the binaries of the
 * test bundles, the files and units it writes, its state), plus every file the plan writes.
 */
const KNOWN_PATHS = [
  '/usr/local/bin/containerd', '/usr/local/bin/ctr', '/usr/local/bin/containerd-shim-runc-v2', '/usr/local/sbin/runc',
  '/usr/local/bin/crictl', '/usr/local/bin/kubeadm', '/usr/local/bin/kubelet', '/usr/local/bin/kubectl', '/usr/local/bin/kube-apiserver-standin',
  '/opt/cni/bin/loopback', '/opt/cni/bin/bridge', '/etc/cni/net.d/10-flannel.conflist',
  '/etc/containerd/config.toml', '/etc/crictl.yaml', '/etc/systemd/system/containerd.service', '/etc/systemd/system/kubelet.service',
  '/etc/systemd/system/kubelet.service.d', '/etc/modules-load.d/kubeforge.conf', '/etc/sysctl.d/99-kubeforge.conf',
  '/var/lib/kubeforge', '/etc/kubernetes/kubelet.conf', '/etc/kubernetes/pki/ca.crt',
];

/** Lines naming what is still there of kubeforge's on the host (files, units, services, processes, the /etc/hosts block). */
async function leftovers(fleet: Fleet, host: TestHost, paths: string[]): Promise<string[]> {
  const script = [
    `for f in ${paths.map((p) => `'${p}'`).join(' ')}; do if [ -e "$f" ]; then echo "file $f"; fi; done`,
    'if grep -q "kubeforge cluster" /etc/hosts; then echo "hosts block"; fi',
    'for u in kubelet containerd kube-apiserver-standin; do',
    '  if systemctl is-active --quiet "$u"; then echo "active $u"; fi',
    '  if systemctl is-enabled --quiet "$u" 2>/dev/null; then echo "enabled $u"; fi',
    '  if systemctl cat "$u.service" >/dev/null 2>&1; then echo "unit $u"; fi',
    'done',
    'if pgrep -x containerd >/dev/null; then echo "process containerd"; fi',
    // Anchored: this script's own shell has the pattern in its command line. (The stand-in is a python3 script.)
    'if pgrep -f "^(/usr/bin/python3 )?/usr/local/bin/kubelet( |$)" >/dev/null; then echo "process kubelet"; fi',
    'true',
  ].join('\n');
  const r = await ssh(fleet, host, script);
  return r.stdout.split('\n').filter(Boolean);
}

interface LogLine {
  argv: string[];
  time: string;
  [key: string]: unknown;
}

async function standinLog(fleet: Fleet, host: TestHost, tool: 'kubeadm' | 'kubectl' | 'kubelet' | 'kube-apiserver'): Promise<LogLine[]> {
  const r = await ssh(fleet, host, `cat /var/log/${tool}-standin.log 2>/dev/null || true`);
  return r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as LogLine);
}

/** The stand-in API server's objects, read with kubectl on the control plane. */
async function apiGet(fleet: Fleet, cp: TestHost, rawPath: string): Promise<{ items: Array<{ metadata: { name: string; namespace?: string }; status?: { conditions?: Array<{ type: string; status: string }> } }> }> {
  return JSON.parse((await ssh(fleet, cp, `kubectl --kubeconfig /etc/kubernetes/admin.conf get --raw '${rawPath}'`)).stdout);
}

/** Polls until the API server stand-in answers again (after a restart), or fails saying so. */
async function waitForApi(fleet: Fleet, cp: TestHost): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const r = await ssh(fleet, cp, 'kubectl --kubeconfig /etc/kubernetes/admin.conf get --raw /readyz', { allowFail: true });
    if (r.stdout.trim() === 'ok') return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`the API server on ${cp.name} did not answer again after its restart`);
}

async function nodeNames(fleet: Fleet, cp: TestHost): Promise<string[]> {
  return (await apiGet(fleet, cp, '/api/v1/nodes')).items.map((n) => n.metadata.name).sort();
}

describe.skipIf(unavailable)('kubeforge reset on 2 full hosts', () => {
  let fleet: Fleet;
  let artifacts: Artifacts;
  let dir: string;
  let inventory: string;
  let cp: TestHost;
  let worker: TestHost;
  let paths: string[];

  beforeAll(async () => {
    [fleet, artifacts] = await Promise.all([startFleet({ full: 2 }), buildArtifacts('1.30.2')]);
    [cp, worker] = [fleet.full[0]!, fleet.full[1]!];
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'kf-reset-'));
    inventory = await writeFleetInventory(fleet, dir, { artifacts, clusterName: 'e2e', hosts: fleet.full });
    const up = await kubeforge(['up', '-i', inventory]);
    expect(up.code, up.stdout + up.stderr).toBe(0);
    const { cluster } = await loadInventory(inventory);
    const planned = planCluster(cluster, await loadPlaybooks()).flatMap((p) => p.steps.flatMap((s) => s.files.map((f) => f.path)));
    paths = [...new Set([...KNOWN_PATHS, ...planned])];
    // Pods on the worker, for the drain: one a ReplicaSet manages, one no controller manages
    // (with emptyDir data), one of the network add-on's DaemonSet (which the drain leaves).
    const pods = [
      'apiVersion: v1\nkind: Namespace\nmetadata: {name: apps}',
      `apiVersion: v1\nkind: Pod\nmetadata: {name: web-1, namespace: apps, ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: web, uid: u1, controller: true}]}\nspec: {nodeName: ${worker.name}, containers: [{name: a, image: a}]}`,
      `apiVersion: v1\nkind: Pod\nmetadata: {name: scratch, namespace: apps}\nspec: {nodeName: ${worker.name}, volumes: [{name: t, emptyDir: {}}], containers: [{name: a, image: a}]}`,
      `apiVersion: v1\nkind: Pod\nmetadata: {name: flannel-w, namespace: kube-flannel, ownerReferences: [{apiVersion: apps/v1, kind: DaemonSet, name: kube-flannel-ds, uid: u2, controller: true}]}\nspec: {nodeName: ${worker.name}, containers: [{name: a, image: a}]}`,
    ].join('\n---\n');
    const applied = await ssh(fleet, cp, `cat > /root/pods.yaml <<'EOF'\n${pods}\nEOF\nkubectl --kubeconfig /etc/kubernetes/admin.conf apply -f /root/pods.yaml`);
    expect(applied.stdout).toContain('pod/scratch created');
  }, 15 * 60_000);

  afterAll(async () => {
    await fleet?.destroy();
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  it('starts from a cluster where both hosts carry what kubeforge installed', async () => {
    expect(await nodeNames(fleet, cp)).toEqual([cp.name, worker.name]);
    for (const host of [cp, worker]) {
      const there = await leftovers(fleet, host, paths);
      for (const p of KNOWN_PATHS) expect(there, host.name).toContain(`file ${p}`);
      expect(there).toEqual(expect.arrayContaining(['hosts block', 'active kubelet', 'active containerd', 'unit kubelet', 'unit containerd', 'process kubelet', 'process containerd']));
    }
  });

  it('without --yes and without a terminal, refuses with a hint and contacts no host', async () => {
    const kubectlCalls = (await standinLog(fleet, cp, 'kubectl')).length;
    const r = await kubeforge(['reset', '-i', inventory, '--limit', worker.name]);
    expect(r.code, r.stdout + r.stderr).toBe(2);
    expect(r.stderr).toContain(`${worker.name} (worker, ${worker.address}): drain and delete node ${worker.name} (through ${cp.name})`);
    expect(r.stderr).toMatch(/error: --yes: a reset needs confirmation, and there is no terminal to ask on\n {2}hint: .*add --yes/);
    expect((await standinLog(fleet, cp, 'kubectl')).length).toBe(kubectlCalls);
    expect(await leftovers(fleet, worker, ['/var/lib/kubeforge'])).toEqual(expect.arrayContaining(['file /var/lib/kubeforge', 'active kubelet']));
  });

  it('at a terminal, asks; the default answer (no) resets nothing', async () => {
    const kubectlCalls = (await standinLog(fleet, cp, 'kubectl')).length;
    const term = new PtySession(process.execPath, [CLI, 'reset', '-i', inventory, '--limit', worker.name]);
    await term.waitFor(`${worker.name} (worker, ${worker.address}): drain and delete node`);
    await term.answer('Reset 1 host(s)? This cannot be undone. (y/N)', '');
    expect(await term.exited).toBe(1);
    expect(term.screen()).toContain('nothing was reset');
    expect((await standinLog(fleet, cp, 'kubectl')).length).toBe(kubectlCalls);
    expect(await nodeNames(fleet, cp)).toEqual([cp.name, worker.name]);
  });

  it('refuses to reset the init host while the worker remains, before touching anything', async () => {
    const before = { kubectl: (await standinLog(fleet, cp, 'kubectl')).length, kubeadm: (await standinLog(fleet, cp, 'kubeadm')).length };
    const r = await kubeforge(['reset', '-i', inventory, '--limit', cp.name, '--yes']);
    expect(r.code, r.stdout + r.stderr).toBe(2);
    expect(r.stderr).toContain(`error: --limit: ${cp.name} is the init host (the first control plane)`);
    expect(r.stderr).toContain(`while ${worker.name} is still in the cluster`);
    expect(r.stderr).toContain(`hint: reset the others first (kubeforge reset --limit ${worker.name}), or the whole cluster with --all`);
    expect((await standinLog(fleet, cp, 'kubectl')).length).toBe(before.kubectl);
    expect((await standinLog(fleet, cp, 'kubeadm')).length).toBe(before.kubeadm);
    expect(await nodeNames(fleet, cp)).toEqual([cp.name, worker.name]);
    expect(await leftovers(fleet, cp, ['/var/lib/kubeforge', '/etc/kubernetes/admin.conf'])).toEqual(expect.arrayContaining(['file /var/lib/kubeforge', 'file /etc/kubernetes/admin.conf', 'active kubelet']));
    await expect(fs.access(path.join(dir, '.kubeforge', 'runs'))).resolves.toBeUndefined();
    expect((await fs.readdir(path.join(dir, '.kubeforge', 'runs'))).length).toBe(1);
  });

  it('a drain that cannot finish (a disruption budget) fails the host and changes nothing on it', async () => {
    const kept = `apiVersion: v1\nkind: Pod\nmetadata: {name: kept, namespace: apps, labels: {app: kept}, ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: kept, uid: u3, controller: true}]}\nspec: {nodeName: ${worker.name}, containers: [{name: a, image: a}]}`;
    const apply = (yaml: string) => ssh(fleet, cp, `cat > /root/kept.yaml <<'EOF'\n${yaml}\nEOF\nkubectl --kubeconfig /etc/kubernetes/admin.conf apply -f /root/kept.yaml`);
    await apply(`apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: keep, namespace: apps}\nspec: {minAvailable: 1, selector: {matchLabels: {app: kept}}}\n---\n${kept}`);
    const kubeadmCalls = (await standinLog(fleet, worker, 'kubeadm')).length;

    const r = await kubeforge(['reset', '-i', inventory, '--limit', worker.name, '--yes', '--drain-timeout', '1s']);
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.stdout).toMatch(new RegExp(`^${worker.name}\\s+worker\\s+FAILED\\s.*cluster/drain: kubectl drain ${worker.name} failed`, 'm'));
    expect(r.stdout).toContain("Cannot evict pod as it would violate the pod's disruption budget.");
    expect(r.stdout).toContain(`kubectl uncordon ${worker.name} puts the node back in service`);
    // Nothing on the host changed; the node is still there, cordoned (as kubectl drain leaves it).
    expect((await standinLog(fleet, worker, 'kubeadm')).length).toBe(kubeadmCalls);
    expect(await leftovers(fleet, worker, ['/var/lib/kubeforge', '/etc/kubernetes/kubelet.conf'])).toEqual(
      expect.arrayContaining(['file /var/lib/kubeforge', 'file /etc/kubernetes/kubelet.conf', 'active kubelet', 'active containerd']));
    const node = JSON.parse((await ssh(fleet, cp, `kubectl --kubeconfig /etc/kubernetes/admin.conf get nodes ${worker.name} -o json`)).stdout) as { spec?: { unschedulable?: boolean } };
    expect(node.spec?.unschedulable).toBe(true);
    // The ledger: a reset to run again, not an up to retry.
    const status = await kubeforge(['status', '-i', inventory, '--no-nodes']);
    expect(status.stdout).toContain(`hosts whose reset did not finish (run it again: kubeforge reset --limit ${worker.name})`);
    expect((await kubeforge(['up', '-i', inventory, '--retry-failed'])).stdout).toContain('nothing to retry');

    // The budget no longer selects the pod (its selector re-applied): the next drain can evict it.
    await apply('apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: keep, namespace: apps}\nspec: {minAvailable: 1, selector: {matchLabels: {app: nobody}}}');
    const pdb = JSON.parse((await ssh(fleet, cp, "kubectl --kubeconfig /etc/kubernetes/admin.conf get --raw /apis/policy/v1/namespaces/apps/poddisruptionbudgets/keep")).stdout) as { spec: { selector: unknown } };
    expect(pdb.spec.selector).toEqual({ matchLabels: { app: 'nobody' } });
  });

  it('reset --limit worker --yes: drains (evictions, DaemonSet pod left), kubeadm reset, nothing of kubeforge left, node deleted', async () => {
    // A minute is plenty here: a drain that hangs fails this test quickly instead of after 5 minutes.
    const r = await kubeforge(['reset', '-i', inventory, '--limit', worker.name, '--yes', '--drain-timeout', '1m']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`${worker.name} cluster/drain changed`));
    expect(r.stdout).toMatch(new RegExp(`${worker.name} cluster/delete-node changed`));
    expect(r.stdout).toMatch(new RegExp(`^${worker.name}\\s+worker\\s+reset\\s`, 'm'));

    // The cluster: the node is gone; its pods were evicted through the eviction API, but for the DaemonSet's.
    expect(await nodeNames(fleet, cp)).toEqual([cp.name]);
    const pods = (await apiGet(fleet, cp, '/api/v1/pods')).items.map((p) => `${p.metadata.namespace}/${p.metadata.name}`);
    expect(pods).toEqual(['kube-flannel/flannel-w']);
    const evictions = (await standinLog(fleet, cp, 'kube-apiserver')).filter((e) => String(e.path).endsWith('/eviction') && e.code === 201).map((e) => String(e.path)).sort();
    expect(evictions).toEqual(['/api/v1/namespaces/apps/pods/kept/eviction', '/api/v1/namespaces/apps/pods/scratch/eviction', '/api/v1/namespaces/apps/pods/web-1/eviction']);
    const drain = (await standinLog(fleet, cp, 'kubectl')).find((c) => c.argv.includes('drain'))!;
    expect(drain.argv).toEqual(expect.arrayContaining(['drain', worker.name, '--ignore-daemonsets', '--delete-emptydir-data', '--force']));

    // The host: kubeadm reset ran with the CRI socket, and nothing of kubeforge's is left.
    const resets = (await standinLog(fleet, worker, 'kubeadm')).filter((c) => c.argv[0] === 'reset');
    expect(resets.map((c) => c.argv)).toEqual([['reset', '-f', '--cri-socket', 'unix:///run/containerd/containerd.sock']]);
    expect(await leftovers(fleet, worker, paths)).toEqual([]);
    // Its kubelet stopped (and with it the node's status reports).
    expect((await standinLog(fleet, worker, 'kubelet')).at(-1)?.event).toBe('stopped');
    // The init host is untouched.
    expect(await leftovers(fleet, cp, ['/var/lib/kubeforge'])).toEqual(expect.arrayContaining(['file /var/lib/kubeforge', 'active kubelet', 'active containerd']));

    // The ledger: reset, not something to retry; status says how to bring it back.
    const state = JSON.parse(await fs.readFile(path.join(dir, '.kubeforge', 'state.json'), 'utf8')) as Record<string, { status: string; command: string }>;
    expect(state[worker.name]).toMatchObject({ status: 'reset', command: 'reset' });
    expect(state[cp.name]).toMatchObject({ status: 'ok', command: 'up' });
    const status = await kubeforge(['status', '-i', inventory, '--no-nodes']);
    expect(status.stdout).toContain(`hosts reset (a plain kubeforge up brings them back): ${worker.name}`);
    const retry = await kubeforge(['up', '-i', inventory, '--retry-failed']);
    expect(retry.code, retry.stdout + retry.stderr).toBe(0);
    expect(retry.stdout).toContain('nothing to retry');
  });

  it('a plain up brings the worker back: a fresh join, its node Ready again', async () => {
    const joinsBefore = (await standinLog(fleet, worker, 'kubeadm')).filter((c) => c.argv[0] === 'join').length;
    const r = await kubeforge(['up', '-i', inventory]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`${worker.name} cluster/join changed`));
    expect((await standinLog(fleet, worker, 'kubeadm')).filter((c) => c.argv[0] === 'join').length).toBe(joinsBefore + 1);
    const nodes = (await apiGet(fleet, cp, '/api/v1/nodes')).items;
    expect(nodes.map((n) => n.metadata.name).sort()).toEqual([cp.name, worker.name]);
    const ready = nodes.find((n) => n.metadata.name === worker.name)!.status!.conditions!.find((c) => c.type === 'Ready');
    expect(ready?.status).toBe('True');
    expect(await leftovers(fleet, worker, ['/var/lib/kubeforge', '/usr/local/bin/kubelet'])).toEqual(expect.arrayContaining(['file /var/lib/kubeforge', 'active kubelet', 'active containerd']));
  });

  it('when the cluster does not answer, says so and resets the host all the same (its node stays); a second reset of it is harmless', async () => {
    await ssh(fleet, cp, 'systemctl stop kube-apiserver-standin');
    try {
      const r = await kubeforge(['reset', '-i', inventory, '--limit', worker.name, '--yes']);
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(r.stderr).toMatch(new RegExp(`the cluster does not answer through ${cp.name} \\(.*\\): nodes are not drained or deleted; the hosts are reset all the same`));
      expect(r.stdout).not.toContain('cluster/drain');
      expect(await leftovers(fleet, worker, paths)).toEqual([]);
      // Again, on a host with nothing left: every part has nothing to do, and it succeeds.
      const again = await kubeforge(['reset', '-i', inventory, '--limit', worker.name, '--yes']);
      expect(again.code, again.stdout + again.stderr).toBe(0);
      expect(again.stdout).toMatch(new RegExp(`${worker.name} reset/kubeadm unchanged: not installed`));
    } finally {
      await ssh(fleet, cp, 'systemctl start kube-apiserver-standin');
    }
    await waitForApi(fleet, cp);
    // The node was never deleted: the cluster could not be asked to.
    expect(await nodeNames(fleet, cp)).toEqual([cp.name, worker.name]);
  });

  it('reset --all --yes: the worker first, then the init host; neither keeps anything of kubeforge\'s', async () => {
    const r = await kubeforge(['reset', '-i', inventory, '--all', '--yes', '--drain-timeout', '1m']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    for (const host of [cp, worker]) expect(r.stdout).toMatch(new RegExp(`^${host.name}\\s+\\S+\\s+reset\\s`, 'm'));
    // The worker (already reset, its node still in the cluster: drained and deleted now) before the init host.
    expect(r.stdout).toMatch(new RegExp(`${worker.name} cluster/delete-node changed`));
    const ledger = JSON.parse(await fs.readFile(path.join(dir, '.kubeforge', 'last-run.json'), 'utf8')) as { hosts: Array<{ host: string; steps: Array<{ key: string; startedAt: string; durationMs: number }> }> };
    const span = (name: string) => ledger.hosts.find((h) => h.host === name)!.steps.map((st) => [Date.parse(st.startedAt), Date.parse(st.startedAt) + st.durationMs]);
    const workerEnd = Math.max(...span(worker.name).map(([, end]) => end!));
    const cpStart = Math.min(...span(cp.name).map(([start]) => start!));
    expect(workerEnd).toBeLessThanOrEqual(cpStart);
    expect((await standinLog(fleet, cp, 'kubeadm')).filter((c) => c.argv[0] === 'reset')).toHaveLength(1);
    for (const host of [cp, worker]) expect(await leftovers(fleet, host, paths), host.name).toEqual([]);
    // The init host's API server went with it, and the laptop's admin.conf for that cluster.
    expect((await ssh(fleet, cp, 'systemctl is-active kube-apiserver-standin', { allowFail: true })).stdout.trim()).not.toBe('active');
    await expect(fs.access(path.join(dir, '.kubeforge', 'e2e-admin.conf'))).rejects.toThrow();
    expect(r.stdout).toContain('e2e-admin.conf: its cluster is gone');
  });
});
