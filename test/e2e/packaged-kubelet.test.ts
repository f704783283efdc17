// Without kubernetes.bundle, kubeadm, the kubelet and kubectl come from the distribution's
// packages (/usr/bin): the kubelet unit must run the kubelet where it really is, and follow it.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bakeVersion, buildArtifacts, standinsDir, type Artifacts } from '../hosts/artifacts.js';
import { startFleet, type Fleet } from '../hosts/fleet.js';
import type { TestHost } from '../hosts/host.js';
import { writeFleetInventory } from '../hosts/inventory.js';
import { e2eUnavailableReason, kubeforge } from './support.js';

const unavailable = e2eUnavailableReason();

describe.skipIf(unavailable)('kubeadm and the kubelet from distribution packages (no kubernetes.bundle)', () => {
  let fleet: Fleet;
  let artifacts: Artifacts;
  let dir: string;
  let inventory: string;
  let host: TestHost;
  let first: { code: number; stdout: string; stderr: string };

  beforeAll(async () => {
    [fleet, artifacts] = await Promise.all([startFleet({ full: 1 }), buildArtifacts('1.30.2')]);
    host = fleet.full[0]!;
    // What the packages would have put there (here: the stand-ins, as the Kubernetes bundle has them).
    for (const tool of ['kubeadm', 'kubelet', 'kubectl', 'kube-apiserver-standin']) {
      const source = tool === 'kube-apiserver-standin' ? 'kube-apiserver' : tool;
      const text = bakeVersion(await fs.readFile(path.join(standinsDir(), source), 'utf8'), artifacts.kubernetesVersion);
      await host.exec(`cat > /usr/bin/${tool} && chmod 0755 /usr/bin/${tool}`, { input: text });
    }
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'kf-packaged-'));
    inventory = await writeFleetInventory(fleet, dir, { artifacts, clusterName: 'pkg' });
    const text = await fs.readFile(inventory, 'utf8');
    await fs.writeFile(inventory, text.replace(/^ {2}bundle: .*kubernetes-standin.*\n/m, ''));
    expect(await fs.readFile(inventory, 'utf8')).not.toContain('kubernetes-standin');
    first = await kubeforge(['up', '-i', inventory]);
  });

  afterAll(async () => {
    await fleet?.destroy();
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  it('runs the packaged /usr/bin/kubelet from the unit and its kubeadm drop-in, and the node gets Ready', async () => {
    expect(first.code, first.stdout + first.stderr).toBe(0);
    expect(first.stdout).toMatch(/^full-1\s+control-plane\s+ok\s+Ready\s/m);
    expect(await host.sh('grep ^ExecStart= /etc/systemd/system/kubelet.service')).toBe('ExecStart=/usr/bin/kubelet');
    expect(await host.sh('grep "^ExecStart=/" /etc/systemd/system/kubelet.service.d/10-kubeadm.conf')).toMatch(/^ExecStart=\/usr\/bin\/kubelet \$KUBELET_KUBECONFIG_ARGS/);
    expect(await host.sh('test -e /usr/local/bin/kubelet && echo bundle || echo none')).toBe('none');
    expect(await host.sh('systemctl show -p ExecMainStatus,ActiveState kubelet | sort')).toBe('ActiveState=active\nExecMainStatus=0');
  });

  it('follows the kubelet when it moves: the unit is rendered again for the new path and the kubelet restarted on it', async () => {
    await host.exec('mkdir -p /opt/kubelet/bin && mv /usr/bin/kubelet /opt/kubelet/bin/kubelet && ln -s /opt/kubelet/bin/kubelet /usr/local/sbin/kubelet');
    const again = await kubeforge(['up', '-i', inventory]);
    expect(again.code, again.stdout + again.stderr).toBe(0);
    expect(again.stdout).toMatch(/kubernetes\/kubelet-unit changed/);
    expect(await host.sh('grep ^ExecStart= /etc/systemd/system/kubelet.service')).toBe('ExecStart=/usr/local/sbin/kubelet');
    expect(await host.sh('systemctl is-active kubelet')).toBe('active');
    expect(again.stdout).toMatch(/^full-1\s+control-plane\s+ok\s+Ready\s/m);
  });
});
