// kubeforge's preflight on real hosts: what real kubeadm would refuse ten minutes into a run is
// reported for every host at once, with its fix, before anything changed on any host. Then, the
// causes fixed, the same inventory brings the cluster up.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildArtifacts, type Artifacts } from '../hosts/artifacts.js';
import { startFleet, type Fleet } from '../hosts/fleet.js';
import type { TestHost } from '../hosts/host.js';
import { writeFleetInventory } from '../hosts/inventory.js';
import { e2eUnavailableReason, kubeforge } from './support.js';

const unavailable = e2eUnavailableReason();

/** What a run may have changed on a host: kubeforge's state, containerd, installed packages. */
async function footprint(host: TestHost): Promise<string> {
  return host.sh(
    'for p in /var/lib/kubeforge /usr/local/bin/containerd /etc/containerd /opt/cni/bin /etc/kubernetes /etc/systemd/system/kubelet.service; do [ -e $p ] && echo "exists $p"; done; ' +
      'for b in iptables conntrack socat crictl; do command -v $b >/dev/null && echo "installed $b"; done; grep -c "kubeforge" /etc/hosts || true',
  );
}

describe.skipIf(unavailable)('preflight on 3 full hosts: problems reported before anything changes', () => {
  let fleet: Fleet;
  let artifacts: Artifacts;
  let dir: string;
  let inventory: string;
  let run: { code: number; stdout: string; stderr: string };
  let before: string[];

  beforeAll(async () => {
    [fleet, artifacts] = await Promise.all([startFleet({ full: 3 }), buildArtifacts('1.30.2')]);
    const [cp1, cp2, worker] = fleet.full as [TestHost, TestHost, TestHost];
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'kf-preflight-'));
    inventory = await writeFleetInventory(fleet, dir, {
      artifacts,
      clusterName: 'pre',
      controlPlanes: 2,
      overrides: { kubernetes: { controlPlaneEndpoint: `${cp1.address}:6443` } },
    });
    // cp1: one CPU for every new SSH session (sshd's affinity is inherited), as kubeadm counts them.
    await cp1.exec('for p in $(pgrep -x sshd); do taskset -a -p 1 $p >/dev/null; done');
    // cp2: 1000 MB of memory as /proc/meminfo tells it, and something on port 6443.
    await cp2.exec(
      "sed 's/^MemTotal:.*/MemTotal:        1024000 kB/' /proc/meminfo > /run/fake-meminfo && mount --bind /run/fake-meminfo /proc/meminfo",
    );
    await cp2.exec(
      "systemd-run --unit=busy-6443 python3 -c 'import socket, time\ns = socket.socket()\ns.bind((\"0.0.0.0\", 6443))\ns.listen()\ntime.sleep(3600)'",
    );
    // worker: no package manager kubeforge knows, and no iptables/conntrack (a minimal image).
    await worker.exec('mv /usr/bin/apt-get /usr/bin/apt-get.hidden');
    before = await Promise.all(fleet.full.map(footprint));
    run = await kubeforge(['up', '-i', inventory]);
  });

  afterAll(async () => {
    await fleet?.destroy();
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  it('fails the run with every host\'s problems, each with the host, the cause and the fix', () => {
    expect(run.code, run.stdout + run.stderr).toBe(1);
    const out = run.stdout;
    expect(out).toContain('preflight: nothing was changed on any host');
    expect(out).toMatch(/^ {2}full-1: \[NumCPU\] the number of available CPUs 1 is less than the required 2$/m);
    expect(out).toMatch(/^ {2}full-2: .*\[Mem\] the system RAM \(1000 MB\) is less than the minimum 1700 MB/m);
    expect(out).toMatch(/^ {2}full-2: .*\[Port-6443\] Port 6443 is in use/m);
    expect(out).toMatch(/^ {2}full-3: \[FileExisting\] iptables, conntrack not found in system path, and this host has no package manager kubeforge knows/m);
    expect(out).toMatch(/fix: give the control-plane host at least 2 CPUs/);
    expect(out).toMatch(/fix: .*stop what listens on port 6443/);
    expect(out).toMatch(/fix: on the host: install iptables, conntrack/);
    for (const h of ['full-1', 'full-2', 'full-3']) expect(out).toMatch(new RegExp(`^${h}\\s+\\S+\\s+FAILED\\s`, 'm'));
  });

  it('changed nothing on any host: no state, no containerd, no package, no /etc/hosts block', async () => {
    expect(await Promise.all(fleet.full.map(footprint))).toEqual(before);
    expect(before.every((f) => !f.includes('exists') && !f.includes('installed'))).toBe(true);
    for (const h of fleet.full) expect(await h.sh('ls /var/lib/kubeadm-standin 2>/dev/null || true')).toBe('');
  });

  it('records the preflight failure in the ledger, so --retry-failed picks the hosts up', async () => {
    const ledger = JSON.parse(await fs.readFile(path.join(dir, '.kubeforge', 'last-run.json'), 'utf8')) as {
      hosts: Array<{ host: string; status: string; steps: Array<{ key: string; status: string }> }>;
    };
    for (const h of ledger.hosts) {
      expect(h.status).toBe('failed');
      expect(h.steps.find((s) => s.key === 'preflight')?.status).toBe('failed');
    }
  });

  it('refuses, before connecting, an add-on whose pod CIDR differs and an offline archive that lacks kubeadm\'s images', async () => {
    const bad = path.join(dir, 'bad');
    const badInventory = await writeFleetInventory(fleet, bad, {
      artifacts,
      clusterName: 'pre',
      overrides: { kubernetes: { podSubnet: '10.245.0.0/16', images: [artifacts.imageArchive] } },
    });
    const r = await kubeforge(['up', '-i', badInventory]);
    expect(r.code, r.stdout + r.stderr).toBe(2);
    expect(r.stderr).toMatch(/inventory\.yaml:\d+:\d+: .*10\.244\.0\.0\/16/);
    expect(r.stderr).toMatch(/10\.245\.0\.0\/16/);
    expect(r.stderr).toMatch(/inventory\.yaml:\d+:\d+: .*registry\.k8s\.io\/kube-apiserver:v1\.30\.2/);
    expect(r.stderr).toContain('registry.k8s.io/pause:3.9');
    expect(r.stderr).toContain('docker.io/flannel/flannel');
    await expect(fs.stat(path.join(bad, '.kubeforge'))).rejects.toThrow();
  });

  it('brings the cluster up once the causes are fixed', async () => {
    const [cp1, cp2, worker] = fleet.full as [TestHost, TestHost, TestHost];
    await cp1.exec('for p in $(pgrep -x sshd); do taskset -a -p 0xffffffff $p >/dev/null 2>&1 || taskset -a -p 3 $p >/dev/null; done');
    await cp2.exec('umount /proc/meminfo; systemctl stop busy-6443');
    await worker.exec('mv /usr/bin/apt-get.hidden /usr/bin/apt-get');
    const again = await kubeforge(['up', '-i', inventory, '--retry-failed']);
    expect(again.code, again.stdout + again.stderr).toBe(0);
    for (const h of fleet.full) expect(again.stdout).toMatch(new RegExp(`^${h.name}\\s+\\S+\\s+ok\\s+Ready\\s`, 'm'));
  });
});
