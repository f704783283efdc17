// Day two on 2 full hosts (1 control plane, 1 worker) with the stand-ins: `status` shows each
// control plane's certificate expiry and warns under 30 days (the test ages a certificate in the
// kubeadm stand-in's state, as time would); `certs renew` renews, restarts the static Pods (the
// kubelet stand-in stops and starts the API server), waits for the API server and refreshes the
// laptop's kubeconfig; `backup` brings an etcd snapshot, its sha256 and the PKI here, and a
// damaged transfer leaves no half backup.
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildArtifacts } from '../hosts/artifacts.js';
import { run } from '../hosts/exec.js';
import { startFleet, type Fleet } from '../hosts/fleet.js';
import type { TestHost } from '../hosts/host.js';
import { writeFleetInventory } from '../hosts/inventory.js';
import { addUser } from '../hosts/users.js';
import { e2eUnavailableReason, kubeforge } from './support.js';

const unavailable = e2eUnavailableReason();

interface LogEntry {
  argv?: string[];
  event?: string;
  exit?: number;
  pod?: string;
  containerId?: string;
  command?: string;
  [key: string]: unknown;
}

async function log(host: TestHost, file: string): Promise<LogEntry[]> {
  const text = await host.sh(`cat ${file} 2>/dev/null || true`);
  return text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as LogEntry);
}

interface StatusJson {
  certificates: Array<{
    host: string;
    error?: string;
    info?: { certificates: Array<{ name: string; expires?: string; missing: boolean }> };
    expiringSoon: Array<{ name: string; days: number; authority: boolean }>;
  }>;
}

const DAY = 86_400_000;

describe.skipIf(unavailable)('certificates and etcd backups on 2 full hosts', () => {
  let fleet: Fleet;
  let dir: string;
  let inventory: string;
  let cp: TestHost;
  let worker: TestHost;
  let kubeconfig: string;

  const state = async () => JSON.parse(await cp.sh('cat /var/lib/kubeadm-standin/state.json')) as { pki: { certificates: Record<string, { expires: string }> } };
  const apiserverPid = () => cp.sh('systemctl show -p MainPID --value kube-apiserver-standin.service');

  beforeAll(async () => {
    const [f, artifacts] = await Promise.all([startFleet({ full: 2 }), buildArtifacts('1.30.2')]);
    fleet = f;
    [cp, worker] = [fleet.full[0]!, fleet.full[1]!];
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'kf-certs-'));
    inventory = await writeFleetInventory(fleet, dir, { artifacts, clusterName: 'cb', hosts: [cp, worker] });
    kubeconfig = path.join(dir, '.kubeforge', 'cb-admin.conf');
    const up = await kubeforge(['up', '-i', inventory]);
    expect(up.code, up.stdout + up.stderr).toBe(0);
  });

  afterAll(async () => {
    await fleet?.destroy();
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  it('status shows the control plane\'s certificate expiry (a year out after init), not the worker\'s, and no warning', async () => {
    const r = await kubeforge(['status', '-i', inventory]);
    expect(r.code, r.stderr).toBe(0);
    const row = r.stdout.split('\n').find((l) => l.startsWith(`${cp.name} `) && l.includes(' UTC ('));
    expect(row, r.stdout).toMatch(/ \((364|365) d, [a-z.-]+\)\s+\d{4}-\d\d-\d\d \d\d:\d\d UTC \((3649|3650) d, [a-z-]+\)/);
    expect(r.stdout).toMatch(/^CONTROL PLANE +CERTIFICATES EXPIRE +CA EXPIRES/m);
    expect(r.stdout.split('\n').filter((l) => l.startsWith(`${worker.name} `) && l.includes(' UTC ('))).toEqual([]);
    expect(r.stdout).not.toMatch(/warning:/);

    const json = JSON.parse((await kubeforge(['status', '-i', inventory, '--json'])).stdout) as StatusJson;
    expect(json.certificates.map((c) => c.host)).toEqual([cp.name]);
    const names = json.certificates[0]!.info!.certificates.map((c) => c.name);
    expect(names).toEqual(['admin.conf', 'apiserver', 'apiserver-etcd-client', 'apiserver-kubelet-client', 'controller-manager.conf',
      'etcd-healthcheck-client', 'etcd-peer', 'etcd-server', 'front-proxy-client', 'scheduler.conf', 'super-admin.conf']);
    expect(json.certificates[0]!.expiringSoon).toEqual([]);
    // kubeforge asked kubeadm for JSON (Kubernetes 1.30 has -o json).
    const calls = (await log(cp, '/var/log/kubeadm-standin.log')).filter((c) => c.command === 'certs check-expiration');
    expect(calls.at(-1)!.argv).toEqual(['certs', 'check-expiration', '-o', 'json']);
  });

  it('status warns when a certificate expires in under 30 days (aged in the stand-in\'s state), in text and JSON', async () => {
    const soon = new Date(Date.now() + 10 * DAY).toISOString().replace(/\.\d+Z$/, 'Z');
    await cp.sh(`python3 - <<'EOF'
import json
p = "/var/lib/kubeadm-standin/state.json"
s = json.load(open(p))
s["pki"]["certificates"]["apiserver"]["expires"] = "${soon}"
json.dump(s, open(p, "w"))
EOF`);
    const r = await kubeforge(['status', '-i', inventory]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`warning: ${cp.name}: certificate apiserver expires in (9|10) days \\(.* UTC, under 30 days\\)`));
    expect(r.stdout).toContain(`renew them: kubeforge certs renew -i ${inventory}`);
    const json = JSON.parse((await kubeforge(['status', '-i', inventory, '--json'])).stdout) as StatusJson;
    expect(json.certificates[0]!.expiringSoon.map((w) => [w.name, w.authority])).toEqual([['apiserver', false]]);
  });

  it('certs renew refuses without --yes when nobody can be asked, before touching a host', async () => {
    const before = (await log(cp, '/var/log/kubeadm-standin.log')).length;
    const r = await kubeforge(['certs', 'renew', '-i', inventory]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--yes: renewing certificates restarts the control plane, and there is no terminal to ask on/);
    expect((await log(cp, '/var/log/kubeadm-standin.log')).length).toBe(before);
  });

  it('certs renew --yes renews a year out, restarts the static Pods and the API server, and refreshes the laptop kubeconfig', async () => {
    const kubeconfigBefore = await fs.readFile(kubeconfig, 'utf8');
    const pidBefore = await apiserverPid();
    const kubeletLogBefore = (await log(cp, '/var/log/kubelet-standin.log')).length;
    const workerKubeadmCalls = (await log(worker, '/var/log/kubeadm-standin.log')).length;

    const r = await kubeforge(['certs', 'renew', '-i', inventory, '--yes']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain(`${cp.name}: static Pods restarted`);
    expect(r.stdout).toContain(`${cp.name}: the API server answers /readyz`);

    // kubeadm renewed everything, a year out.
    const renew = (await log(cp, '/var/log/kubeadm-standin.log')).filter((c) => c.command === 'certs renew all');
    expect(renew).toHaveLength(1);
    expect(renew[0]!.exit).toBe(0);
    for (const [name, cert] of Object.entries((await state()).pki.certificates)) {
      expect((new Date(cert.expires).getTime() - Date.now()) / DAY, name).toBeGreaterThan(364);
    }
    // The kubelet saw the four manifests leave and come back, in new containers; the API server was stopped and started again.
    const events = (await log(cp, '/var/log/kubelet-standin.log')).slice(kubeletLogBefore);
    for (const pod of ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'etcd']) {
      const removed = events.find((e) => e.event === 'static-pod-removed' && e.pod === `${pod}-${cp.name}`);
      const created = events.find((e) => e.event === 'static-pod-created' && e.pod === `${pod}-${cp.name}`);
      expect(removed, pod).toBeDefined();
      expect(created, pod).toBeDefined();
      expect(created!.containerId).not.toBe(removed!.containerId);
      expect(events.indexOf(created!)).toBeGreaterThan(events.indexOf(removed!));
    }
    expect(events.filter((e) => e.event === 'apiserver-stop' || e.event === 'apiserver-restart').map((e) => [e.event, e.exit])).toEqual([['apiserver-stop', 0], ['apiserver-restart', 0]]);
    expect(await apiserverPid()).not.toBe(pidBefore);
    expect(await cp.sh('kubectl --kubeconfig /etc/kubernetes/admin.conf get --raw /readyz')).toBe('ok');
    expect(await cp.sh('ls /etc/kubernetes/manifests | sort | tr "\\n" " "')).toBe('etcd.yaml kube-apiserver.yaml kube-controller-manager.yaml kube-scheduler.yaml');
    expect(await cp.sh('ls -A /etc/kubernetes/kubeforge-restart')).toBe('');
    // The worker was not touched.
    expect((await log(worker, '/var/log/kubeadm-standin.log')).length).toBe(workerKubeadmCalls);

    // The laptop's kubeconfig: the renewed admin.conf, 0600.
    const kubeconfigAfter = await fs.readFile(kubeconfig, 'utf8');
    expect(kubeconfigAfter).not.toBe(kubeconfigBefore);
    expect(kubeconfigAfter).toBe((await cp.sh('cat /etc/kubernetes/admin.conf')) + '\n');
    expect((await fs.stat(kubeconfig)).mode & 0o777).toBe(0o600);

    // Recorded in the ledger, apart from the last `up`.
    const runs = await fs.readdir(path.join(dir, '.kubeforge', 'runs'));
    const records = await Promise.all(runs.map(async (f) => JSON.parse(await fs.readFile(path.join(dir, '.kubeforge', 'runs', f), 'utf8')) as { command: string; exitCode: number; hosts: Array<{ host: string; status: string; steps: Array<{ key: string; status: string }> }> }));
    const renewal = records.find((rec) => rec.command === 'certs renew')!;
    expect(renewal.exitCode).toBe(0);
    expect(renewal.hosts.map((h) => [h.host, h.status])).toEqual([[cp.name, 'ok']]);
    expect(renewal.hosts[0]!.steps.map((s) => s.key)).toEqual(['connect', 'certs/check-before', 'certs/renew', 'certs/restart-static-pods', 'certs/api-server', 'certs/check-after', 'certs/kubeconfig']);
    expect(JSON.parse(await fs.readFile(path.join(dir, '.kubeforge', 'last-run.json'), 'utf8')).command).toBe('up');

    const status = await kubeforge(['status', '-i', inventory]);
    expect(status.stdout).not.toMatch(/warning:/);
  });

  it('backup brings a verified etcd snapshot, its sha256 and the PKI here: 0700 folder, 0600 files, named by cluster and time', async () => {
    const out = path.join(dir, 'backups');
    const r = await kubeforge(['backup', '-i', inventory, '--output', out]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const entries = await fs.readdir(out);
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatch(/^cb-\d{8}T\d{6}Z$/);
    const b = path.join(out, entries[0]!);
    expect((await fs.stat(b)).mode & 0o777).toBe(0o700);
    expect((await fs.readdir(b)).sort()).toEqual(['backup.json', 'etcd-snapshot.db', 'etcd-snapshot.db.sha256', 'pki.tar.gz']);
    for (const f of await fs.readdir(b)) expect((await fs.stat(path.join(b, f))).mode & 0o777, f).toBe(0o600);

    // The sha256 file matches the snapshot, in sha256sum's own check.
    const snapshot = await fs.readFile(path.join(b, 'etcd-snapshot.db'));
    const sha = createHash('sha256').update(snapshot).digest('hex');
    expect(await fs.readFile(path.join(b, 'etcd-snapshot.db.sha256'), 'utf8')).toBe(`${sha}  etcd-snapshot.db\n`);
    expect((await run('sha256sum', ['-c', 'etcd-snapshot.db.sha256'], { cwd: b })).stdout).toBe('etcd-snapshot.db: OK\n');

    // The snapshot verifies: its own trailing sha256 holds, and it holds the cluster's objects (the stand-in's etcd).
    const body = snapshot.subarray(0, snapshot.length - 32);
    expect(createHash('sha256').update(body).digest().equals(snapshot.subarray(snapshot.length - 32))).toBe(true);
    expect(body.toString()).toContain(`"name": "${worker.name}"`);
    const manifest = JSON.parse(await fs.readFile(path.join(b, 'backup.json'), 'utf8')) as { cluster: string; host: string; snapshot: { sha256: string; status: { revision: number; totalKey: number } } };
    expect(manifest).toMatchObject({ cluster: 'cb', host: cp.name, snapshot: { sha256: sha } });
    expect(manifest.snapshot.status.revision).toBeGreaterThan(0);
    expect(manifest.snapshot.status.totalKey).toBeGreaterThan(0);
    const etcdutl = (await log(cp, '/var/log/etcd-standin.log')).filter((e) => e.tool === 'etcdutl');
    expect(etcdutl.at(-1)!.exit).toBe(0);

    // The PKI, private keys included.
    const listed = (await run('tar', ['-tzf', path.join(b, 'pki.tar.gz')])).stdout.split('\n');
    for (const f of ['pki/ca.crt', 'pki/ca.key', 'pki/etcd/ca.key', 'pki/sa.key', 'pki/apiserver.crt']) expect(listed, f).toContain(f);
    // Nothing left on the host.
    expect(await cp.sh('ls -A /var/lib/etcd | grep kubeforge-backup || true')).toBe('');
  });

  it('a backup whose transfer arrives damaged leaves no half backup here and nothing on the host', async () => {
    const out = path.join(dir, 'backups');
    const before = await fs.readdir(out);
    // The host now reports a wrong sha256 for what it sent: as if the bytes changed on the way.
    await cp.sh(`printf '%s\\n' '#!/bin/sh' 'cat >/dev/null; echo "${'0'.repeat(64)}  -"' > /usr/local/bin/sha256sum && chmod 0755 /usr/local/bin/sha256sum`);
    try {
      const r = await kubeforge(['backup', '-i', inventory, '--output', out]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/etcd-snapshot\.db arrived damaged: sha256 [0-9a-f]{64} \(\d+ bytes\) here, 0{64}/);
      expect(r.stderr).toContain('no backup was written');
    } finally {
      await cp.sh('rm -f /usr/local/bin/sha256sum');
    }
    expect(await fs.readdir(out)).toEqual(before);
    expect(await cp.sh('ls -A /var/lib/etcd | grep kubeforge-backup || true')).toBe('');
  });

  it('backup works reached as an ordinary user with sudo: the root-only files come through a private copy, removed after', async () => {
    const key = (await fs.readFile(`${fleet.clientKey}.pub`, 'utf8')).trim();
    await addUser(cp, { name: 'kfbackup', sudo: 'nopasswd', authorizedKeys: [key] });
    const text = (await fs.readFile(inventory, 'utf8')).replace(/^(\s+)user: root$/m, '$1user: kfbackup');
    expect(text).toMatch(/^\s+user: kfbackup$/m);
    const asUser = path.join(dir, 'as-user');
    await fs.mkdir(asUser);
    await fs.writeFile(path.join(asUser, 'inventory.yaml'), text);
    const r = await kubeforge(['backup', '-i', path.join(asUser, 'inventory.yaml')]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const [name] = await fs.readdir(path.join(asUser, 'backups'));
    const b = path.join(asUser, 'backups', name!);
    expect((await run('sha256sum', ['-c', 'etcd-snapshot.db.sha256'], { cwd: b })).stdout).toBe('etcd-snapshot.db: OK\n');
    for (const f of await fs.readdir(b)) expect((await fs.stat(path.join(b, f))).mode & 0o777, f).toBe(0o600);
    expect(await cp.sh('ls -d /tmp/kubeforge-download.* /var/tmp/kubeforge-download.* 2>/dev/null || true')).toBe('');
    expect(await cp.sh('ls -A /var/lib/etcd | grep kubeforge-backup || true')).toBe('');
  });
});
