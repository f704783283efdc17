// Failed hosts: each scenario breaks one host (or the CLI) in a real way, checks what the other
// hosts did and what the summary and the ledger say about the broken one, removes the fault,
// and checks that `up --retry-failed` converges to the same end state as a clean run.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildArtifacts, type Artifacts } from '../hosts/artifacts.js';
import { startFleet, type Fleet } from '../hosts/fleet.js';
import type { TestHost } from '../hosts/host.js';
import { writeFleetInventory } from '../hosts/inventory.js';
import { healLink, lossyLink, slowLink } from '../hosts/links.js';
import { e2eUnavailableReason, kubeforge, kubeforgeInBackground, waitFor } from './support.js';

const unavailable = e2eUnavailableReason();

interface LedgerRun {
  interrupted: boolean;
  exitCode: number;
  limitedTo?: string[];
  hosts: Array<{ host: string; status: string; reason?: string; steps: Array<{ key: string; status: string; error?: { message: string; exitCode?: number; output?: string } }> }>;
}

/** Everything that defines a finished node, comparable across hosts of a cluster. */
async function endState(host: TestHost): Promise<string> {
  return host.sh(`
    cd / && sha256sum etc/containerd/config.toml etc/systemd/system/containerd.service etc/crictl.yaml \
      etc/modules-load.d/kubeforge.conf etc/sysctl.d/99-kubeforge.conf etc/systemd/system/kubelet.service \
      etc/systemd/system/kubelet.service.d/10-kubeadm.conf usr/local/bin/containerd usr/local/bin/ctr \
      usr/local/sbin/runc usr/local/bin/kubeadm usr/local/bin/kubelet 2>&1
    stat -c '%n %a' etc/containerd/config.toml etc/crictl.yaml
    for u in containerd kubelet; do echo "$u $(systemctl is-active $u) $(systemctl is-enabled $u)"; done
    ctr -n k8s.io images ls -q
    test -f /etc/kubernetes/kubelet.conf && echo "cluster member"
    ls -A /var/lib/kubeforge/steps | tr '\\n' ' '; echo
    find /var/lib/kubeforge /etc/containerd /usr/local/bin -name '*.kubeforge-*' | sort`);
}

/** Files at final paths are whole: the bundle on the host has the bundle's own hash. */
async function bundleFiles(host: TestHost): Promise<string> {
  return host.sh('cd /var/lib/kubeforge/bundles 2>/dev/null && ls -A | sort | while read -r f; do echo "$f $(sha256sum < "$f" | cut -c1-16)"; done; true');
}

/** Bundles at their final path whose content is not the one their name promises (a half-written file). */
async function partialBundles(host: TestHost): Promise<string[]> {
  const lines = (await bundleFiles(host)).split('\n').filter(Boolean);
  return lines.filter((l) => {
    const [name, sum] = l.split(' ');
    return !name!.startsWith('.') && name!.slice(0, 16) !== sum;
  });
}

async function readLedger(dir: string): Promise<LedgerRun> {
  return JSON.parse(await fs.readFile(path.join(dir, '.kubeforge', 'last-run.json'), 'utf8')) as LedgerRun;
}

describe.skipIf(unavailable)('failed hosts: keep going, remember, rerun the failed ones only', () => {
  let artifacts: Artifacts;
  let fleet: Fleet | undefined;
  let dir: string;
  const figures: string[] = [];

  beforeAll(async () => {
    artifacts = await buildArtifacts('1.30.2');
  });

  afterEach(async () => {
    if (fleet) {
      for (const h of fleet.hosts) await healLink(h);
      await fleet.destroy();
      fleet = undefined;
    }
  });

  afterAll(() => {
    for (const f of figures) console.log(`FIGURE ${f}`);
  });

  /** A fresh 3-host cluster-to-be: full-1 control plane, full-2 and full-3 workers. */
  async function setup(extra: Record<string, unknown> = {}, playbooks?: (dir: string) => Promise<void>) {
    fleet = await startFleet({ full: 3 });
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'kf-faults-'));
    const inventory = await writeFleetInventory(fleet, dir, {
      artifacts,
      clusterName: 'faults',
      // Short timeouts keep a dead host from holding the test for long.
      overrides: { ssh: { connectTimeout: '2s', keepaliveInterval: '1s' }, ...extra },
    });
    const args = ['up', '-i', inventory];
    if (playbooks) {
      const pdir = path.join(dir, 'playbooks');
      await fs.cp(path.resolve(__dirname, '../../playbooks'), pdir, { recursive: true });
      await playbooks(pdir);
      args.push('--playbooks', pdir);
    }
    const [cp, w1, w2] = fleet.full as [TestHost, TestHost, TestHost];
    return { fleet, inventory, args, cp, w1, w2 };
  }

  async function expectConverged(reference: TestHost, hosts: TestHost[]) {
    const want = await endState(reference);
    expect(want).toContain('containerd active enabled');
    expect(want).toContain('kubelet active enabled');
    expect(want).toContain('cluster member');
    expect(want).toContain(artifacts.imageRef);
    for (const h of hosts) expect(await endState(h), `${h.name} against ${reference.name}`).toBe(want);
    // The OS-packages bundle is sent only to a host that lacks the packages: a host that
    // installed them before failing need not get it again.
    const sent = async (h: TestHost) => (await bundleFiles(h)).split('\n').filter((l) => !l.includes('-os-packages-')).join('\n');
    for (const h of hosts) expect(await sent(h)).toBe(await sent(reference));
  }

  it('a host unreachable from the start: the others finish, it is failed, a retry joins it', async () => {
    const { args, cp, w1, w2 } = await setup();
    await w2.setLink(false);
    const first = await kubeforge(args);
    expect(first.code, first.stdout + first.stderr).toBe(1);
    expect(first.stdout).toMatch(/^full-1\s+control-plane\s+ok\s/m);
    expect(first.stdout).toMatch(/^full-2\s+worker\s+ok\s/m);
    expect(first.stdout).toMatch(/^full-3\s+worker\s+FAILED\s.*connect: /m);
    expect(first.stdout).toContain('--retry-failed');
    const ledger = await readLedger(dir);
    const failed = ledger.hosts.find((h) => h.host === 'full-3')!;
    expect(failed.status).toBe('failed');
    expect(failed.steps[0]).toMatchObject({ key: 'connect', status: 'failed' });
    expect(failed.steps[0]!.error!.message).toMatch(/full-3/);
    expect((await kubeforge(['status', '-i', args[2]!])).stdout).toMatch(/hosts to retry \(kubeforge up --retry-failed\): full-3$/m);
    expect(await w2.sh('test -d /var/lib/kubeforge && echo touched || echo untouched')).toBe('untouched');

    await w2.setLink(true);
    const retry = await kubeforge([...args, '--retry-failed']);
    expect(retry.code, retry.stdout + retry.stderr).toBe(0);
    const after = await readLedger(dir);
    expect(after.limitedTo).toEqual(['full-3']);
    expect(after.hosts.map((h) => h.host)).toEqual(['full-3']);
    await expectConverged(w1, [cp, w2]);
    expect((await kubeforge([...args, '--retry-failed'])).stdout).toContain('nothing to retry');
  });

  it('the init host unreachable: workers are blocked, not failed, and a retry finishes all', async () => {
    const { args, cp, w1, w2 } = await setup();
    await cp.setLink(false);
    const first = await kubeforge(args);
    expect(first.code).toBe(1);
    expect(first.stdout).toMatch(/^full-1\s+control-plane\s+FAILED\s.*connect: /m);
    expect(first.stdout).toMatch(/^full-2\s+worker\s+BLOCKED\s.*init host full-1 failed/m);
    expect(first.stdout).toMatch(/^full-3\s+worker\s+BLOCKED\s/m);
    const ledger = await readLedger(dir);
    expect(ledger.hosts.map((h) => h.status)).toEqual(['failed', 'blocked', 'blocked']);
    // Blocked hosts did all they could without the init host.
    for (const w of [w1, w2]) expect(await w.sh('systemctl is-active containerd')).toBe('active');
    expect(ledger.hosts[1]!.steps.at(-1)).toMatchObject({ key: 'cluster/join', status: 'blocked' });

    await cp.setLink(true);
    const retry = await kubeforge([...args, '--retry-failed']);
    expect(retry.code, retry.stdout + retry.stderr).toBe(0);
    expect((await readLedger(dir)).limitedTo?.sort()).toEqual(['full-1', 'full-2', 'full-3']);
    await expectConverged(w1, [cp, w2]);
  });

  it('sshd killed in the middle of the bundle upload: no partial file, and a retry completes it', async () => {
    const { args, cp, w1, w2 } = await setup();
    await slowLink(w2, 20_000);
    const run = kubeforgeInBackground(args);
    await waitFor('the containerd bundle upload to be under way on full-3', async () => {
      const sizes = await w2.sh("find /var/lib/kubeforge/bundles -name '.*containerd*.kubeforge-*.tmp' -size +1M 2>/dev/null; true");
      return sizes !== '';
    });
    await w2.sh('pkill -KILL -x sshd; true');
    const first = await run.done;
    expect(first.code, first.stdout + first.stderr).toBe(1);
    expect(first.stdout).toMatch(/^full-3\s+worker\s+FAILED\s.*containerd\/binaries/m);
    expect(first.stdout).toMatch(/^full-2\s+worker\s+ok\s/m);
    const failedStep = (await readLedger(dir)).hosts[2]!.steps.find((s) => s.status === 'failed')!;
    expect(failedStep.key).toBe('containerd/binaries');
    // Nothing at the final path: the bundle is either absent or whole.
    expect(await partialBundles(w2)).toEqual([]);
    expect(await w2.sh('ls -A /var/lib/kubeforge/bundles | grep -v "^\\." | grep containerd || true')).toBe('');

    await healLink(w2);
    await w2.sh('systemctl reset-failed ssh; systemctl start ssh');
    await waitFor('sshd on full-3 to answer again', async () => (await w2.exec('systemctl is-active ssh', { allowFail: true })).stdout.trim() === 'active');
    const retry = await kubeforge([...args, '--retry-failed']);
    expect(retry.code, retry.stdout + retry.stderr).toBe(0);
    await expectConverged(w1, [cp, w2]);
  });

  it("a host's link taken down in the middle of a step: failed by keepalive, then converges", async () => {
    // The shipped playbooks, with a step that takes long enough to cut the link inside it.
    const { args, cp, w1, w2 } = await setup({}, async (pdir) => {
      const file = path.join(pdir, 'containerd.yaml');
      const text = await fs.readFile(file, 'utf8');
      const slowed = text.replace('    run: |\n      systemctl daemon-reload\n', '    run: |\n      sleep 6  # test: a long step\n      systemctl daemon-reload\n');
      expect(slowed).not.toBe(text);
      await fs.writeFile(file, slowed);
    });
    const started = Date.now();
    const run = kubeforgeInBackground(args);
    await waitFor('containerd/config to be running on full-3', async () => (await w2.exec('pgrep -fx "sleep 6"', { allowFail: true })).code === 0);
    await w2.setLink(false);
    const first = await run.done;
    figures.push(`link down mid-step detected and run finished in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    expect(first.code, first.stdout + first.stderr).toBe(1);
    expect(first.stdout).toMatch(/^full-3\s+worker\s+FAILED\s.*containerd\/config/m);
    expect(first.stdout).toMatch(/^full-1\s+control-plane\s+ok\s/m);
    expect(first.stdout).toMatch(/^full-2\s+worker\s+ok\s/m);
    const ledger = await readLedger(dir);
    expect(ledger.hosts[2]!.status).toBe('failed');

    await w2.setLink(true);
    const retry = await kubeforge([...args, '--retry-failed']);
    expect(retry.code, retry.stdout + retry.stderr).toBe(0);
    await expectConverged(w1, [cp, w2]);
  });

  it('a slow, lossy link still finishes, with upload progress reported for that host', async () => {
    const { args, cp, w1, w2 } = await setup();
    await slowLink(w2, 50_000);
    await lossyLink(w2, 0.02);
    const started = Date.now();
    // This machine's own uploads over the bad link (a relay would bring the copy from a peer).
    const run = await kubeforge([...args, '--relay', 'off']);
    figures.push(`up with one host on a 50 Mbit/s link losing 2% of packets: ${((Date.now() - started) / 1000).toFixed(1)} s`);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    for (const pct of [25, 50, 75, 100]) expect(run.stdout).toMatch(new RegExp(`full-3 containerd/binaries: sending containerd ${pct}% `));
    await healLink(w2);
    await expectConverged(w1, [cp, w2]);
  });

  it('a disk that fills during the upload: failed with the reason, nothing partial left, retry converges', async () => {
    const { args, cp, w1, w2 } = await setup();
    await w2.sh('mkdir -p /var/lib/kubeforge/bundles && mount -t tmpfs -o size=16m tmpfs /var/lib/kubeforge/bundles');
    const first = await kubeforge(args);
    expect(first.code, first.stdout + first.stderr).toBe(1);
    expect(first.stdout).toMatch(/^full-3\s+worker\s+FAILED\s.*containerd\/binaries/m);
    const failedStep = (await readLedger(dir)).hosts[2]!.steps.find((s) => s.status === 'failed')!;
    expect(JSON.stringify(failedStep.error)).toMatch(/no space left|ENOSPC|Failure/i);
    expect(await partialBundles(w2)).toEqual([]);
    expect(await w2.sh('ls -A /var/lib/kubeforge/bundles | grep -v "^\\." | grep containerd || true')).toBe('');
    expect(first.stdout).toMatch(/^full-2\s+worker\s+ok\s/m);

    await w2.sh('umount /var/lib/kubeforge/bundles');
    const retry = await kubeforge([...args, '--retry-failed']);
    expect(retry.code, retry.stdout + retry.stderr).toBe(0);
    await expectConverged(w1, [cp, w2]);
  });

  it('--max-fail 1 stops the run early: hosts still working are cancelled, and a retry finishes them', async () => {
    const { args, cp, w1, w2 } = await setup();
    for (const h of [cp, w1]) await slowLink(h, 20_000);
    await w2.sh('mkdir -p /var/lib/kubeforge/bundles && mount -t tmpfs -o size=8m tmpfs /var/lib/kubeforge/bundles');
    const first = await kubeforge([...args, '--max-fail', '1']);
    expect(first.code, first.stdout + first.stderr).toBe(1);
    const ledger = await readLedger(dir);
    expect(ledger.hosts.map((h) => h.status)).toEqual(['cancelled', 'cancelled', 'failed']);
    expect(ledger.hosts[0]!.reason).toMatch(/--max-fail/);
    expect(ledger.interrupted).toBe(false);
    for (const h of [cp, w1]) expect(await h.sh("find /var/lib/kubeforge -name '*.kubeforge-*' 2>/dev/null; true")).toBe('');

    await w2.sh('umount /var/lib/kubeforge/bundles');
    for (const h of [cp, w1]) await healLink(h);
    const retry = await kubeforge([...args, '--retry-failed']);
    expect(retry.code, retry.stdout + retry.stderr).toBe(0);
    await expectConverged(w1, [cp, w2]);
  });

  it('a containerd config that containerd fails to start on is rolled back and reported', async () => {
    const { args, cp, w1, w2 } = await setup();
    const clean = await kubeforge(args);
    expect(clean.code, clean.stdout + clean.stderr).toBe(0);
    const before = await endState(w2);
    // A socket path containerd accepts in its config but cannot listen on at start.
    await writeFleetInventory(fleet!, dir, {
      artifacts,
      clusterName: 'faults',
      overrides: { ssh: { connectTimeout: '2s', keepaliveInterval: '1s' }, containerd: { socket: '/proc/kubeforge/containerd.sock' } },
    });
    const broken = await kubeforge(args);
    expect(broken.code, broken.stdout + broken.stderr).toBe(1);
    for (const h of ['full-1', 'full-2', 'full-3']) {
      expect(broken.stdout).toMatch(new RegExp(`^${h}\\s+\\S+\\s+FAILED\\s.*containerd/config: .*the previous files were put back`, 'm'));
    }
    // Every host is back on the files it had, with containerd running on them.
    for (const h of [cp, w1, w2]) {
      expect(await endState(h), h.name).toBe(before);
      expect(await h.sh('ls /etc/containerd/ /etc | grep -c kubeforge-prev || true')).toBe('0');
    }
    const step = (await readLedger(dir)).hosts[2]!.steps.find((st) => st.key === 'containerd/config')!;
    expect(step.status).toBe('failed');
    expect(step.error!.output).toMatch(/containerd|socket|\/proc/i);

    // Back to the inventory that worked: nothing to do anywhere.
    await writeFleetInventory(fleet!, dir, { artifacts, clusterName: 'faults', overrides: { ssh: { connectTimeout: '2s', keepaliveInterval: '1s' } } });
    const again = await kubeforge(args);
    expect(again.code, again.stdout + again.stderr).toBe(0);
    for (const h of (await readLedger(dir)).hosts) {
      for (const st of h.steps) expect(['unchanged', 'verified'], `${h.host} ${st.key}`).toContain(st.status);
    }
  });

  it('SIGINT in the middle of a run: steps cancelled, remote temporaries removed, ledger written', async () => {
    const { args, cp, w1, w2 } = await setup();
    for (const h of [cp, w1, w2]) await slowLink(h, 20_000);
    // Three uploads from this machine at once (relay-faults.test.ts interrupts a relay).
    const run = kubeforgeInBackground([...args, '--relay', 'off']);
    await waitFor('bundle uploads to be under way', async () => {
      const found = await Promise.all([cp, w1, w2].map((h) => h.sh("find /var/lib/kubeforge/bundles -name '.*.kubeforge-*.tmp' 2>/dev/null; true")));
      return found.every((f) => f !== '');
    });
    const interruptedAt = Date.now();
    run.child.kill('SIGINT');
    const first = await run.done;
    figures.push(`SIGINT to exit: ${((Date.now() - interruptedAt) / 1000).toFixed(1)} s`);
    expect(first.code, first.stdout + first.stderr).toBe(130);
    expect(first.stderr).toContain('interrupted');
    const ledger = await readLedger(dir);
    expect(ledger.interrupted).toBe(true);
    expect(ledger.hosts.map((h) => h.status)).toEqual(['cancelled', 'cancelled', 'cancelled']);
    for (const h of [cp, w1, w2]) {
      expect(await h.sh("find /var/lib/kubeforge /etc /usr/local -name '*.kubeforge-*' 2>/dev/null")).toBe('');
      expect(await partialBundles(h)).toEqual([]);
      // Nothing kubeforge started is still running on the host.
      expect(await h.sh("ps -eo args | grep -E 'sftp-server|sha256sum|openssl|kubeforge' | grep -v grep || true")).toBe('');
    }

    for (const h of [cp, w1, w2]) await healLink(h);
    const retry = await kubeforge([...args, '--retry-failed']);
    expect(retry.code, retry.stdout + retry.stderr).toBe(0);
    await expectConverged(w1, [cp, w2]);
  });
});
