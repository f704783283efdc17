// Smoke test of the test-host harness itself: the hosts are real, separate machines as far
// as SSH can tell, and nothing of a fleet survives its teardown.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildKubernetesStandinBundle } from '../hosts/artifacts.js';
import { run } from '../hosts/exec.js';
import { cleanupStale, destroySlot, leftovers, startFleet, type Fleet } from '../hosts/fleet.js';
import { pidAlive } from '../hosts/lock.js';
import { e2eUnavailableReason, ssh } from './support.js';

const unavailable = e2eUnavailableReason();

describe.skipIf(unavailable)('test-host fleet: 3 full + 10 light hosts', () => {
  let fleet: Fleet;

  beforeAll(async () => {
    const started = Date.now();
    fleet = await startFleet({ full: 3, light: 10, log: (l) => console.log(l) });
    console.log(`FIGURE fleet-up 3 full + 10 light: ${((Date.now() - started) / 1000).toFixed(2)} s`);
  });

  afterAll(async () => {
    if (fleet) await fleet.destroy();
  });

  it('gives each host its own hostname and address, reached by key with its host key checked', async () => {
    expect(fleet.full).toHaveLength(3);
    expect(fleet.light).toHaveLength(10);
    const addresses = new Set(fleet.hosts.map((h) => h.address));
    expect(addresses.size).toBe(13);
    await Promise.all(
      fleet.hosts.map(async (host) => {
        const r = await ssh(fleet, host, 'hostname; ip -4 -o addr show');
        const [hostname, ...addrLines] = r.stdout.trim().split('\n');
        expect(hostname).toBe(host.name);
        expect(addrLines.join('\n')).toContain(`inet ${host.address}/`);
      }),
    );
  });

  it('gives each host its own filesystem: a file written on one is absent on the others', async () => {
    const [a, b] = [fleet.full[0]!, fleet.full[1]!];
    const [c, d] = [fleet.light[0]!, fleet.light[1]!];
    const dirs = '/etc /tmp /opt /var /root /usr/local';
    for (const writer of [a, c]) {
      await ssh(fleet, writer, `for d in ${dirs}; do echo ${writer.name} > $d/kf-smoke-${writer.name}; done`);
    }
    for (const [writer, reader] of [[a, b], [c, d], [a, c], [c, a]] as const) {
      const r = await ssh(fleet, reader, `for d in ${dirs}; do cat $d/kf-smoke-${writer.name} 2>/dev/null || echo absent; done`);
      expect(r.stdout.trim().split('\n'), `${writer.name}'s files seen on ${reader.name}`).toEqual(Array(6).fill('absent'));
    }
    const own = await ssh(fleet, c, `cat /usr/local/kf-smoke-${c.name}`);
    expect(own.stdout.trim()).toBe(c.name);
    // Nothing a light host writes reaches this machine's own directories.
    const leaked = await run('sh', ['-c', 'ls /etc/kf-smoke-* /opt/kf-smoke-* /usr/local/kf-smoke-* /var/kf-smoke-* 2>/dev/null || true']);
    expect(leaked.stdout.trim()).toBe('');
  });

  it('runs systemd on full hosts: the system is running and units can be started', async () => {
    for (const host of fleet.full) {
      const state = await ssh(fleet, host, 'systemctl is-system-running --wait', { allowFail: true });
      expect(state.stdout.trim(), `${host.name}: ${state.stdout}${state.stderr}`).toBe('running');
      await ssh(fleet, host, 'systemd-run --unit kf-smoke --quiet sleep 300');
      const active = await ssh(fleet, host, 'systemctl is-active kf-smoke; systemctl show -p MainPID --value kf-smoke');
      const [status, pid] = active.stdout.trim().split('\n');
      expect(status).toBe('active');
      expect(Number(pid)).toBeGreaterThan(1);
    }
  });

  it('the kubeadm stand-in rejects a config with an unknown field', async () => {
    const host = fleet.full[0]!;
    const bundle = await buildKubernetesStandinBundle('1.30.2');
    await run('scp', ['-q', '-i', fleet.clientKey, '-o', `UserKnownHostsFile=${fleet.knownHosts}`, bundle, `root@${host.address}:/root/k8s.tar.gz`]);
    const config = [
      'apiVersion: kubeadm.k8s.io/v1beta3',
      'kind: InitConfiguration',
      'nodeRegistration:',
      '  name: full-1',
      '  criSocket: unix:///run/containerd/containerd.sock',
      '  bogusField: 1',
    ].join('\n');
    const r = await ssh(
      fleet,
      host,
      `set -e; mkdir -p /opt/k8s; tar -C /opt/k8s -xzf /root/k8s.tar.gz; cat > /root/bad.yaml <<'YAML'\n${config}\nYAML\n/opt/k8s/bin/kubeadm init --config /root/bad.yaml`,
      { allowFail: true },
    );
    expect(r.code).not.toBe(0);
    expect(r.stdout + r.stderr).toMatch(/unknown field "?nodeRegistration\.bogusField"?/);
    const log = await fleet.full[0]!.sh('cat /var/log/kubeadm-standin.log');
    expect(log).toContain('bogusField');
  });

  it('leaves nothing behind after teardown: no namespace, mount, bridge, cgroup or process', async () => {
    const slot = fleet.slot;
    const pids = fleet.hosts.flatMap((h) => [h.record.initPid, h.record.launcherPid]);
    expect(await leftovers(slot)).not.toEqual([]);
    await fleet.destroy();
    expect(await leftovers(slot)).toEqual([]);
    expect(pids.filter(pidAlive)).toEqual([]);
  });
});

describe.skipIf(unavailable)('test-host fleet: a crashed run', () => {
  it('is cleaned up at the next start', async () => {
    // A fleet whose owner dies without tearing down: `cli.js up` hands ownership to a
    // short-lived process, which we then kill.
    const owner = spawn('sleep', ['600'], { stdio: 'ignore' });
    const cli = path.resolve(__dirname, '../../dist/test/hosts/cli.js');
    const up = await run(process.execPath, [cli, 'up', '--light', '2', '--full', '1', '--owner', String(owner.pid)]);
    const slot = (JSON.parse(up.stdout) as { slot: number }).slot;
    try {
      expect(await leftovers(slot)).not.toEqual([]);
      expect(await cleanupStale()).not.toContain(slot); // owner alive: not stale
      owner.kill('SIGKILL');
      await new Promise((r) => owner.once('exit', r));
      expect(await cleanupStale()).toContain(slot);
      expect(await leftovers(slot)).toEqual([]);
    } finally {
      owner.kill('SIGKILL');
      await destroySlot(slot);
    }
  });
});

describe.skipIf(unavailable)('test-host fleet: 50 light hosts', () => {
  it('come up on this machine, each answering SSH with its own hostname', async () => {
    const started = Date.now();
    const fleet = await startFleet({ light: 50 });
    try {
      console.log(`FIGURE fleet-up 50 light: ${((Date.now() - started) / 1000).toFixed(2)} s`);
      expect(fleet.light).toHaveLength(50);
      const names = await Promise.all(fleet.hosts.map(async (h) => (await ssh(fleet, h, 'hostname')).stdout.trim()));
      expect(names).toEqual(fleet.hosts.map((h) => h.name));
    } finally {
      await fleet.destroy();
    }
    expect(await leftovers(fleet.slot)).toEqual([]);
  });
});
