import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { InputErrors } from '../errors.js';
import { testCluster } from '../render/fixtures.js';
import { loadPlaybookFile, loadPlaybooks } from './load.js';
import { planCluster, remoteBundlePath } from './plan.js';

const playbooks = await loadPlaybooks();

describe('the shipped playbooks', () => {
  it('load in order and plan every node-checklist file onto every host', () => {
    expect(playbooks.map((p) => p.name)).toEqual(['prepare', 'containerd', 'kubernetes']);
    const cluster = testCluster({ containerdVersion: '1.7.20' });
    const plans = planCluster(cluster, playbooks);
    expect(plans).toHaveLength(cluster.hosts.length);
    const paths = plans[0]!.steps.flatMap((s) => s.files.map((f) => f.path));
    expect(paths).toEqual(
      expect.arrayContaining([
        '/etc/modules-load.d/kubeforge.conf',
        '/etc/sysctl.d/99-kubeforge.conf',
        '/etc/containerd/config.toml',
        '/etc/systemd/system/containerd.service',
        '/etc/crictl.yaml',
        '/etc/systemd/system/kubelet.service',
        '/etc/systemd/system/kubelet.service.d/10-kubeadm.conf',
      ]),
    );
    const config = plans[0]!.steps.find((s) => s.key === 'containerd/config')!;
    expect(config.rollback).toBe(true);
    expect(config.files.find((f) => f.path === '/etc/containerd/config.toml')!.validate).toContain('config dump');
  });

  it('passes values to commands as KF_* variables, never in the command text', () => {
    const cluster = testCluster();
    cluster.hosts[0]!.name = 'cp1';
    const [plan] = planCluster(cluster, playbooks);
    const binaries = plan!.steps.find((s) => s.key === 'containerd/binaries')!;
    expect(binaries.env.KF_BUNDLE_CONTAINERD).toBe(remoteBundlePath(cluster.containerd.bundle));
    for (const step of plan!.steps) {
      for (const script of [step.run, step.check, step.verify]) {
        expect(script ?? '').not.toContain('cp1');
        expect(script ?? '').not.toContain(cluster.containerd.bundle.sha256);
      }
    }
  });

  it('gives a step the same fingerprint for the same inputs and a new one when an input changes', () => {
    const a = planCluster(testCluster(), playbooks)[0]!;
    const b = planCluster(testCluster(), playbooks)[0]!;
    expect(a.steps.map((s) => s.fingerprint)).toEqual(b.steps.map((s) => s.fingerprint));
    const changed = testCluster();
    changed.containerd.sandboxImage = 'registry.k8s.io/pause:3.9';
    const c = planCluster(changed, playbooks)[0]!;
    const differs = a.steps.filter((s, i) => s.fingerprint !== c.steps[i]!.fingerprint).map((s) => s.key);
    expect(differs).toEqual(['containerd/config']);
  });

  it('fingerprints only the values a step uses: a new containerd socket reruns only the steps that name it', () => {
    const a = planCluster(testCluster(), playbooks)[0]!;
    const moved = testCluster();
    moved.containerd.socket = '/run/containerd/other.sock';
    const b = planCluster(moved, playbooks)[0]!;
    const differs = a.steps.filter((s, i) => s.fingerprint !== b.steps[i]!.fingerprint).map((s) => s.key);
    const usesSocket = a.steps.filter((s) => 'KF_CONTAINERD_SOCKET' in s.env).map((s) => s.key);
    expect(usesSocket).toContain('containerd/verify');
    expect(differs).toEqual(['containerd/config', ...usesSocket.filter((k) => k !== 'containerd/config')]);
    expect(a.steps.find((s) => s.key === 'prepare/sysctl')!.env).toEqual({});
    expect(Object.keys(a.steps.find((s) => s.key === 'containerd/binaries')!.env).sort()).toEqual(['KF_BUNDLE_CONTAINERD', 'KF_CONTAINERD_VERSION']);
  });

  it('skips steps whose `when` does not hold (no images, no Kubernetes bundle)', () => {
    const cluster = testCluster();
    cluster.kubernetes.images = [];
    delete cluster.kubernetes.bundle;
    const keys = planCluster(cluster, playbooks)[0]!.steps.map((s) => s.key);
    expect(keys).not.toContain('containerd/images');
    expect(keys).not.toContain('kubernetes/binaries');
    expect(keys).toContain('kubernetes/verify');
  });

  it('content-addresses bundles under a safe remote name', () => {
    const p = remoteBundlePath({ name: 'x', path: "/tmp/my bundle;$(reboot).tar.gz", sha256: 'a'.repeat(64), size: 1 });
    expect(p).toBe('/var/lib/kubeforge/bundles/aaaaaaaaaaaaaaaa-my_bundle___reboot_.tar.gz');
  });
});

describe('a broken playbook', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kf-playbook-'));
  const write = (name: string, text: string) => {
    const file = path.join(dir, name);
    fs.writeFileSync(file, text);
    return file;
  };

  it('reports an unknown key with its line and column and a suggestion', async () => {
    const file = write('typo.yaml', 'name: x\nsteps:\n  - id: a\n    title: A\n    runn: echo hi\n');
    const err = await loadPlaybookFile(file).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputErrors);
    const messages = (err as InputErrors).errors.map((e) => `${e.message} ${e.hint ?? ''}`).join('\n');
    expect(messages).toContain(`${file}:5:5`);
    expect(messages).toMatch(/did you mean "run"/);
  });

  it('reports a template that does not exist', async () => {
    const file = write('tpl.yaml', 'name: x\nsteps:\n  - id: a\n    title: A\n    files:\n      - path: /etc/x\n        template: nope\n');
    const err = (await loadPlaybookFile(file).catch((e: unknown) => e)) as InputErrors;
    expect(err.errors[0]!.message).toBe(`${file}:7:19: no template named "nope"`);
  });

  it('reports YAML syntax errors with a position', async () => {
    const file = write('syntax.yaml', 'name: x\nsteps: [\n');
    const err = (await loadPlaybookFile(file).catch((e: unknown) => e)) as InputErrors;
    expect(err.errors[0]!.message).toMatch(new RegExp(`^${file.replace(/[.]/g, '\\.')}:\\d+:\\d+: `));
  });
});
