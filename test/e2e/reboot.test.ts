// A host that reboots in the middle of a step: that host fails at the step with the reason
// (its connection is gone), the other host finishes, and the summary and ledger are written.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFleet, type Fleet } from '../hosts/fleet.js';
import type { TestHost } from '../hosts/host.js';
import { makeInventoryFixture, type InventoryFixture } from '../inventories/fixtures.js';
import { markAsCluster, writeStubInventory, writeStubPlaybooks } from './stub-cluster.js';
import { e2eUnavailableReason, kubeforgeInBackground, waitFor } from './support.js';

const unavailable = e2eUnavailableReason();

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
    const playbooks = await writeStubPlaybooks(dir, 'touch /run/kf-reboot-started; sleep 8');
    await markAsCluster(fleet.full);
    const inventory = await writeStubInventory(fleet, fixture, dir, fleet.full, { ssh: { keepaliveInterval: '1s' } });
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
