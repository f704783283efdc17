import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { loadPlaybooks } from '../../playbook/load.js';
import { planCluster } from '../../playbook/plan.js';
import { testCluster } from '../../render/fixtures.js';
import { hostResetScript, parseResetReport, RESET_PRELUDE } from './host-script.js';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const playbooks = await loadPlaybooks();

describe('hostResetScript', () => {
  const cluster = testCluster();
  cluster.kubernetes.bundle = { name: 'kubernetes', path: '/x/kubernetes.tar.gz', sha256: '2'.repeat(64), size: 1 };
  const plan = planCluster(cluster, playbooks).find((p) => p.host.name === 'w1')!;

  it('undoes every step of the plan, last applied first, between kubeadm reset and the state folder', () => {
    const reset = hostResetScript(cluster, plan, { removeImages: false, nonce: 'N' });
    const keys = reset.parts.map((p) => p.key);
    expect(keys[0]).toBe('reset/kubeadm');
    expect(keys.at(-1)).toBe('reset/state');
    expect(keys.slice(1, -1)).toEqual(plan.steps.map((s) => `reset/${s.key}`).reverse());
    // The kubelet stops before the binaries go; containerd before its plugins; /etc/hosts last but one.
    expect(keys.indexOf('reset/kubernetes/kubelet-unit')).toBeLessThan(keys.indexOf('reset/kubernetes/binaries'));
    expect(keys.indexOf('reset/containerd/config')).toBeLessThan(keys.indexOf('reset/containerd/binaries'));
    expect(keys.indexOf('reset/prepare/hosts-file')).toBeGreaterThan(keys.indexOf('reset/containerd/binaries'));
  });

  it('is a script sh can parse (and so is every reset command of the shipped playbooks)', () => {
    const reset = hostResetScript(cluster, plan, { removeImages: true });
    for (const text of [reset.script, ...plan.steps.flatMap((s) => (s.reset ? [s.reset.script] : []))]) {
      const r = spawnSync('sh', ['-n'], { input: text, encoding: 'utf8' });
      expect(r.status, `${r.stderr}\n${text}`).toBe(0);
    }
  });

  it('passes every value as a variable: the files each step wrote, its marker, its reset command and what it names', () => {
    const reset = hostResetScript(cluster, plan, { removeImages: true, nonce: 'N' });
    const i = plan.steps.findIndex((s) => s.key === 'kubernetes/kubelet-unit');
    expect(reset.env[`KFR_${i}_F`]).toBe('/etc/systemd/system/kubelet.service\n/etc/systemd/system/kubelet.service.d/10-kubeadm.conf');
    expect(reset.env[`KFR_${i}_M`]).toBe('/var/lib/kubeforge/steps/kubernetes.kubelet-unit');
    expect(reset.env[`KFR_${i}_S`]).toMatch(/systemctl disable --now --quiet kubelet\.service/);
    const hosts = plan.steps.findIndex((s) => s.key === 'prepare/hosts-file');
    expect(reset.env[`KFR_${hosts}_S`]).toContain('KF_HOSTS_BEGIN');
    expect(reset.env.KF_HOSTS_BEGIN).toMatch(/^# BEGIN kubeforge cluster demo\b/);
    expect(reset.env.KF_BUNDLE_CONTAINERD).toMatch(/^\/var\/lib\/kubeforge\/bundles\/0{16}-containerd\.tar\.gz$/);
    expect(reset.env.KFR_CRI_SOCKET).toBe('unix:///run/containerd/containerd.sock');
    expect(reset.env.KFR_IMAGES).toBe('yes');
    // No value is spliced into the script text.
    expect(reset.script).not.toContain('/etc/systemd/system/kubelet.service');
    expect(reset.script).not.toContain('# BEGIN kubeforge');
    // Reset commands are not part of a step's fingerprint: adding them changed no step's identity.
    for (const s of plan.steps) expect(s.env).not.toHaveProperty('KFR_NONCE');
  });

  it('removes the network add-on\'s CNI config only when kubeforge applied an add-on', () => {
    const withAddon = { ...cluster, network: { manifest: { name: 'network', path: '/x/flannel.yml', sha256: '1'.repeat(64), size: 1 } } } as typeof cluster;
    expect(hostResetScript(withAddon, plan, { removeImages: false }).parts.map((p) => p.key)).toContain('reset/cni-config');
    expect(hostResetScript(cluster, plan, { removeImages: false }).parts.map((p) => p.key)).not.toContain('reset/cni-config');
  });

  it('reads the report: each part ok, failed with its output, or not run', () => {
    const reset = hostResetScript(cluster, plan, { removeImages: false, nonce: 'N' });
    const unit = plan.steps.findIndex((s) => s.key === 'kubernetes/kubelet-unit');
    const bins = plan.steps.findIndex((s) => s.key === 'kubernetes/binaries');
    const stdout = ['kubeadm says hello', 'N kubeadm 150 ok', `N step${plan.steps.length - 1} 0 none`, `N step${unit} 12 ok`,
      `N out step${bins} rm: cannot remove '/usr/local/bin/kubeadm': Read-only file system`, `N step${bins} 1 failed 1`, 'N state 0 kept'].join('\n');
    const parts = parseResetReport(reset, plan, stdout);
    const by = new Map(parts.map((p) => [p.key, p]));
    expect(by.get('reset/kubeadm')).toEqual({ key: 'reset/kubeadm', status: 'ok', ms: 1500 });
    expect(by.get('reset/kubernetes/kubelet-unit')?.status).toBe('ok');
    expect(by.get(`reset/${plan.steps.at(-1)!.key}`)?.status).toBe('none');
    expect(by.get('reset/kubernetes/binaries')).toEqual({ key: 'reset/kubernetes/binaries', status: 'failed', exitCode: 1, ms: 10,
      output: "rm: cannot remove '/usr/local/bin/kubeadm': Read-only file system" });
    expect(by.get('reset/prepare/hosts-file')?.status).toBe('not-run');
    expect(by.get('reset/state')?.status).toBe('kept');
    // Lines of another nonce (a forged report in some output) are not read.
    expect(parseResetReport(reset, plan, 'M kubeadm 1 ok').find((p) => p.key === 'reset/kubeadm')?.status).toBe('not-run');
  });
});

describe('kf_rmdirs', () => {
  it('removes the folders a file leaves empty, and never a folder the system owns', () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'kf-rmdirs-'));
    try {
      fs.mkdirSync(path.join(root, 'containerd', 'certs.d', 'docker.io'), { recursive: true });
      fs.writeFileSync(path.join(root, 'keep'), '');
      // rmdir is wrapped to log every folder it is asked to remove.
      const log = path.join(root, 'rmdir.log');
      const script = `${RESET_PRELUDE}
rmdir() { printf '%s\\n' "$1" >>"${log}"; command rmdir "$1"; }
kf_rmdirs "${root}/containerd/certs.d/docker.io"
kf_rmdirs /usr/local/bin
kf_rmdirs /etc/modules-load.d
kf_rmdirs /etc/systemd/system`;
      const r = spawnSync('sh', ['-eu', '-c', script], { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      expect(fs.existsSync(path.join(root, 'containerd'))).toBe(false);
      expect(fs.existsSync(path.join(root, 'keep'))).toBe(true);
      const asked = fs.readFileSync(log, 'utf8').trim().split('\n');
      // Up to the scratch root, which is not empty; nothing of the system's.
      expect(asked).toEqual([`${root}/containerd/certs.d/docker.io`, `${root}/containerd/certs.d`, `${root}/containerd`, root]);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});
