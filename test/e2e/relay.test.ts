// Bundles cross this machine's link once: hosts pass them on to each other over SSH with keys
// made for one transfer each. Light hosts, a real containerd bundle, the real CLI; what is
// checked is on the hosts (every copy whole, no key, line, process or file left behind) and in
// the ledger (where each copy came from), plus the bytes this machine sent into the bridge.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildContainerdBundle } from '../hosts/artifacts.js';
import { startFleet, type Fleet } from '../hosts/fleet.js';
import { makeInventoryFixture, type InventoryFixture } from '../inventories/fixtures.js';
import { markAsCluster, writeStubInventory, writeStubPlaybooks } from './stub-cluster.js';
import { relayTraces } from './relay-support.js';
import { e2eUnavailableReason, kubeforge } from './support.js';

const unavailable = e2eUnavailableReason();

interface LedgerRun {
  hosts: Array<{ host: string; status: string; steps: Array<{ key: string; status: string; detail?: string }> }>;
}

describe.skipIf(unavailable)('relay: bundles pass from host to host', () => {
  let fleet: Fleet;
  let fixture: InventoryFixture;
  let dir: string;
  let inventory: string;
  let playbooks: string;
  let bundle: { path: string; size: number };

  beforeAll(async () => {
    fleet = await startFleet({ light: 6 });
    fixture = makeInventoryFixture();
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'kf-relay-'));
    const built = await buildContainerdBundle();
    bundle = { path: built.path, size: (await fs.stat(built.path)).size };
    playbooks = await writeStubPlaybooks(dir, 'test -s "$KF_BUNDLE_CONTAINERD"', { sendsContainerdBundle: true });
    inventory = await writeStubInventory(fleet, fixture, dir, fleet.light, { containerd: { bundle: built.path, version: built.version } });
    await markAsCluster(fleet.light);
  }, 300_000);

  afterAll(async () => {
    await fleet?.destroy();
    fixture?.remove();
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  it('sends one copy from this machine; the others are relayed, verified, and leave no trace', async () => {
    const txBefore = await bridgeTxBytes(fleet);
    const r = await kubeforge(['up', '-i', inventory, '--playbooks', playbooks, '--no-progress'], { timeoutMs: 180_000 });
    const sent = (await bridgeTxBytes(fleet)) - txBefore;
    expect(r.code, r.stdout + r.stderr).toBe(0);

    const ledger = JSON.parse(await fs.readFile(path.join(dir, '.kubeforge', 'last-run.json'), 'utf8')) as LedgerRun;
    const details = ledger.hosts.map((h) => h.steps.find((s) => s.key === 'prepare/work')?.detail ?? '');
    const uploaded = details.filter((d) => / uploaded \(/.test(d));
    const relayed = details.filter((d) => / relayed from [a-z0-9-]+ \(/.test(d));
    expect(uploaded, details.join('\n')).toHaveLength(1);
    expect(relayed, details.join('\n')).toHaveLength(fleet.light.length - 1);
    // Copies came from several holders: a tree, not a chain from the seed alone.
    const sources = new Set(relayed.map((d) => / relayed from ([a-z0-9-]+)/.exec(d)![1]));
    expect(sources.size).toBeGreaterThan(1);
    // This machine's side of the bridge carried about one copy (plus SSH chatter), not six.
    console.log(`FIGURE relay 6 light hosts: ${(sent / bundle.size).toFixed(2)} bundle sizes sent by this machine`);
    expect(sent).toBeLessThan(2 * bundle.size);

    for (const host of fleet.light) {
      const sums = await host.sh('for f in /var/lib/kubeforge/bundles/*; do printf "%s %s\\n" "${f##*/}" "$(sha256sum < "$f" | cut -c1-16)"; done');
      for (const line of sums.trim().split('\n')) {
        const [name, sum] = line.split(' ');
        expect(name!.slice(0, 16), `${host.name}: ${line}`).toBe(sum);
      }
      expect(await relayTraces(host), host.name).toBe('');
    }
  }, 240_000);

  it('with --relay off every host gets its copy from this machine', async () => {
    await Promise.all(fleet.light.map((h) => h.sh('rm -rf /var/lib/kubeforge/bundles/* /var/lib/kubeforge/steps/*')));
    const r = await kubeforge(['up', '-i', inventory, '--playbooks', playbooks, '--no-progress', '--relay', 'off'], { timeoutMs: 180_000 });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const ledger = JSON.parse(await fs.readFile(path.join(dir, '.kubeforge', 'last-run.json'), 'utf8')) as LedgerRun;
    const details = ledger.hosts.map((h) => h.steps.find((s) => s.key === 'prepare/work')?.detail ?? '');
    expect(details.filter((d) => / uploaded \(/.test(d)), details.join('\n')).toHaveLength(fleet.light.length);
  }, 240_000);
});

async function bridgeTxBytes(fleet: Fleet): Promise<number> {
  return Number((await fs.readFile(`/sys/class/net/${fleet.record.bridge}/statistics/tx_bytes`, 'utf8')).trim());
}
