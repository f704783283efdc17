// The static Pod restart script, run by sh here against a fake crictl that behaves like the
// kubelet: a Pod runs while its manifest is in the folder, in a new container each time it returns.
import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CONTROL_PLANE_PODS, RESTART_STATIC_PODS_SCRIPT } from './certs.js';

const FAKE_CRICTL = `#!/bin/sh
# fake crictl: ps --name ^NAME$ --state running -q
name=$(printf '%s' "$3" | sed 's/^\\^//; s/\\$$//')
[ "$name" = "$STUCK" ] && { echo "id-$name-stuck"; exit 0; }
gen="$FAKE_STATE/$name.gen"
if [ -f "$KF_MANIFESTS/$name.yaml" ]; then
  if [ -f "$FAKE_STATE/$name.gone" ]; then rm -f "$FAKE_STATE/$name.gone"; echo $(( $(cat "$gen" 2>/dev/null || echo 0) + 1 )) > "$gen"; fi
  echo "id-$name-$(cat "$gen" 2>/dev/null || echo 0)"
else
  touch "$FAKE_STATE/$name.gone"
fi
`;

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function setup(): { root: string; manifests: string; hold: string; env: NodeJS.ProcessEnv } {
  const root = mkdtempSync(path.join(os.tmpdir(), 'kf-restart-'));
  dirs.push(root);
  const manifests = path.join(root, 'manifests');
  const bin = path.join(root, 'bin');
  const state = path.join(root, 'state');
  for (const d of [manifests, bin, state]) mkdirSync(d);
  for (const pod of CONTROL_PLANE_PODS) writeFileSync(path.join(manifests, `${pod}.yaml`), `kind: Pod\nmetadata: {name: ${pod}}\n`);
  writeFileSync(path.join(bin, 'crictl'), FAKE_CRICTL);
  chmodSync(path.join(bin, 'crictl'), 0o755);
  const hold = path.join(root, 'hold');
  return {
    root,
    manifests,
    hold,
    env: { PATH: `${bin}:${process.env.PATH}`, KF_MANIFESTS: manifests, KF_HOLD: hold, KF_PODS: CONTROL_PLANE_PODS.join(' '), KF_WAIT_S: '5', FAKE_STATE: state },
  };
}

function run(env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('sh', ['-euc', RESTART_STATIC_PODS_SCRIPT], { env }, (err, stdout, stderr) => resolve({ code: err ? Number(err.code) : 0, stdout, stderr }));
  });
}

describe('restarting the control-plane static Pods', () => {
  it('moves the manifests out, waits for every Pod to stop, moves them back and waits for new containers', async () => {
    const { manifests, hold, env } = setup();
    const r = await run(env);
    expect(r.code, r.stderr).toBe(0);
    for (const pod of CONTROL_PLANE_PODS) {
      expect(r.stdout).toContain(`stopped ${pod}`);
      expect(r.stdout).toContain(`started ${pod} (container id-${pod}-1)`);
    }
    expect(readdirSync(manifests).sort()).toEqual(CONTROL_PLANE_PODS.map((p) => `${p}.yaml`).sort());
    expect(readdirSync(hold)).toEqual([]);
  });

  it('puts the manifests back when the kubelet does not stop a Pod in time', async () => {
    const { manifests, env } = setup();
    const r = await run({ ...env, STUCK: 'etcd', KF_WAIT_S: '1' });
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/the kubelet did not stop etcd within 1s/);
    expect(readdirSync(manifests).sort()).toEqual(CONTROL_PLANE_PODS.map((p) => `${p}.yaml`).sort());
  });

  it('first returns manifests an interrupted restart left aside, and refuses a host that is not a control plane', async () => {
    const { manifests, hold, env } = setup();
    mkdirSync(hold);
    rmSync(path.join(manifests, 'etcd.yaml'));
    writeFileSync(path.join(hold, 'etcd.yaml'), 'kind: Pod\nmetadata: {name: etcd}\n');
    const r = await run(env);
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(path.join(manifests, 'etcd.yaml'))).toBe(true);

    rmSync(path.join(manifests, 'kube-scheduler.yaml'));
    const refused = await run(env);
    expect(refused.code).toBe(3);
    expect(refused.stderr).toMatch(/kube-scheduler\.yaml is not there: not a kubeadm control plane/);
    expect(readdirSync(manifests)).toHaveLength(3);
  });
});
