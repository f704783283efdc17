// A host that reboots in the middle of a step: that host fails at the step with the reason
// (its connection is gone), the other host finishes, and the summary and ledger are written.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFleet, type Fleet } from '../hosts/fleet.js';
import type { TestHost } from '../hosts/host.js';
import { makeInventoryFixture, type InventoryFixture } from '../inventories/fixtures.js';
import { e2eUnavailableReason, kubeforgeInBackground, waitFor } from './support.js';

const unavailable = e2eUnavailableReason();

const PLAYBOOKS: Record<string, string> = {
  'prepare.yaml': `name: prepare
steps:
  - id: work
    title: a command that takes a while
    verifyOnly: true
    verify: touch /run/kf-reboot-started; sleep 8
`,
  'containerd.yaml': 'name: containerd\nsteps:\n  - { id: nothing, title: nothing, verifyOnly: true, verify: "true" }\n',
  'kubernetes.yaml': 'name: kubernetes\nsteps:\n  - { id: nothing, title: nothing, verifyOnly: true, verify: "true" }\n',
};

describe.skipIf(unavailable)('a full host that reboots in the middle of a step', () => {
  let fleet: Fleet;
  let fixture: InventoryFixture;
  let dir: string;

  beforeAll(async () => {
    fleet = await startFleet({ full: 2 });
    fixture = makeInventoryFixture();
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'kf-reboot-'));
  });

  afterAll(async () => {
    await fleet?.destroy();
    fixture?.remove();
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  it('fails that host at the step with the reason, and the other host finishes', async () => {
    const [cp, worker] = fleet.full as [TestHost, TestHost];
    const playbooks = path.join(dir, 'playbooks');
    await fs.mkdir(playbooks);
    for (const [name, text] of Object.entries(PLAYBOOKS)) await fs.writeFile(path.join(playbooks, name), text);
    await fs.copyFile(fleet.knownHosts, path.join(dir, 'known_hosts'));
    for (const host of fleet.full) {
      await host.exec(
        `mkdir -p /etc/kubernetes && printf 'apiVersion: v1\\nkind: Config\\n' > /etc/kubernetes/admin.conf && ` +
          `printf 'apiVersion: v1\\nkind: Config\\nclusters:\\n- cluster:\\n    server: https://${cp.address}:6443\\n' > /etc/kubernetes/kubelet.conf`,
      );
    }
    const bundles = path.join(fixture.dir, 'bundles');
    const inventory = path.join(dir, 'inventory.yaml');
    await fs.writeFile(
      inventory,
      stringify({
        cluster: { name: 'reboot' },
        kubernetes: {
          version: '1.30.2',
          bundle: path.join(bundles, 'kubernetes-1.30.2-linux-amd64.tar.gz'),
          images: [path.join(bundles, 'images.tar')],
          offline: false,
          criTools: path.join(bundles, 'crictl-v1.30.0-linux-amd64.tar.gz'),
        },
        containerd: { bundle: path.join(bundles, 'containerd-1.7.20-linux-amd64.tar.gz'), version: '1.7.20' },
        ssh: { user: 'root', keyFile: fleet.clientKey, agent: false, knownHostsFile: path.join(dir, 'known_hosts'), connectTimeout: '5s', keepaliveInterval: '1s' },
        hosts: [
          { name: cp.name, address: cp.address, role: 'control-plane' },
          { name: worker.name, address: worker.address, role: 'worker' },
        ],
      }),
    );
    const run = kubeforgeInBackground(['up', '-i', inventory, '--playbooks', playbooks]);
    await waitFor('the step to start on the worker', async () => (await worker.exec('test -e /run/kf-reboot-started', { allowFail: true })).code === 0, 60_000);
    await worker.exec('systemctl reboot', { allowFail: true });
    const r = await run.done;
    const output = r.stdout + r.stderr;
    expect(r.code, output).toBe(1);
    expect(output).not.toMatch(/Emitted 'error' event|Unhandled|^\s+at /m);
    expect(r.stdout).toMatch(new RegExp(`^${cp.name}\\s+control-plane\\s+ok\\s`, 'm'));
    expect(r.stdout).toMatch(new RegExp(`^${worker.name}\\s+worker\\s+FAILED\\s+.*prepare/work`, 'm'));
    const ledger = JSON.parse(await fs.readFile(path.join(dir, '.kubeforge', 'last-run.json'), 'utf8')) as {
      hosts: Array<{ host: string; status: string; reason?: string }>;
    };
    expect(ledger.hosts.find((h) => h.host === worker.name)).toMatchObject({ status: 'failed' });
    console.log(`FIGURE reboot mid-step reported as: ${ledger.hosts.find((h) => h.host === worker.name)?.reason}`);
  });
});
