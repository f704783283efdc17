// Hostile hosts never take the run down: a port that closes before the SSH banner, a peer that is
// not SSH, one that never speaks, one that drops during key exchange, a name that does not
// resolve, a connection reset in the middle of a command — each is that host FAILED with its
// reason, while the healthy hosts in the same run finish, and the summary and ledger are written.
// And whatever still escapes every handler stops the run in order: exit 70, "this is a bug".
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFleet, type Fleet } from '../hosts/fleet.js';
import type { TestHost } from '../hosts/host.js';
import { makeInventoryFixture, type InventoryFixture } from '../inventories/fixtures.js';
import { markAsCluster, writeStubInventory, writeStubPlaybooks } from './stub-cluster.js';
import { e2eUnavailableReason, kubeforge, kubeforgeInBackground, waitFor } from './support.js';

const unavailable = e2eUnavailableReason();

type Behaviour = (socket: net.Socket) => void;
const HOSTILE: Record<string, Behaviour> = {
  'closes-at-once': (s) => s.destroy(),
  'not-ssh': (s) => s.end('HTTP/1.1 400 Bad Request\r\n\r\n'),
  silent: () => undefined,
  'drops-in-kex': (s) => {
    s.write('SSH-2.0-OpenSSH_9.2p1\r\n');
    s.once('data', () => setTimeout(() => s.destroy(), 20));
  },
};

interface Ledger {
  exitCode: number;
  hosts: Array<{ host: string; status: string; reason?: string; steps: Array<{ key: string; status: string; error?: { message: string } }> }>;
}

describe.skipIf(unavailable)('hostile hosts and escaped errors never take the run down', () => {
  let fleet: Fleet;
  let fixture: InventoryFixture;
  let dir: string;
  let inventory: string;
  let playbooks: string;
  const servers: net.Server[] = [];
  const ports: Record<string, number> = {};

  async function readLedger(): Promise<Ledger> {
    return JSON.parse(await fs.readFile(path.join(dir, '.kubeforge', 'last-run.json'), 'utf8')) as Ledger;
  }

  /** An inventory of the two healthy light hosts and, optionally, the hostile ones. */
  async function writeInventory(withHostile: boolean): Promise<void> {
    const extraHosts: Array<Record<string, unknown>> = [];
    if (withHostile) {
      // Distinct (unused) internal addresses: Kubernetes wants one IP per node.
      Object.entries(ports).forEach(([name, port], i) => extraHosts.push({ name, address: '127.0.0.1', internalAddress: `192.0.2.${10 + i}`, role: 'worker', ssh: { port } }));
      extraHosts.push({ name: 'ghost', address: 'no-such-host.invalid', internalAddress: '192.0.2.20', role: 'worker' });
    }
    await writeStubInventory(fleet, fixture, dir, fleet.light, { extraHosts, ssh: { connectTimeout: '3s' } });
  }

  beforeAll(async () => {
    fleet = await startFleet({ light: 2 });
    fixture = makeInventoryFixture();
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'kf-hostile-'));
    inventory = path.join(dir, 'inventory.yaml');
    // The stub step leaves a mark, then takes a little while.
    playbooks = await writeStubPlaybooks(dir, 'touch /tmp/kf-hostile-started; sleep 3; echo done');
    await markAsCluster(fleet.light);
    for (const [name, behaviour] of Object.entries(HOSTILE)) {
      const server = net.createServer((socket) => {
        socket.on('error', () => undefined);
        behaviour(socket);
      });
      servers.push(server);
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      ports[name] = (server.address() as net.AddressInfo).port;
    }
  });

  afterAll(async () => {
    for (const s of servers) s.close();
    await fleet?.destroy();
    fixture?.remove();
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  it('fails each hostile host at connect with its reason, while the healthy hosts finish', async () => {
    await writeInventory(true);
    const started = Date.now();
    const r = await kubeforge(['up', '-i', inventory, '--playbooks', playbooks], { timeoutMs: 180_000 });
    console.log(`FIGURE run with 5 hostile hosts and 2 healthy ones: ${((Date.now() - started) / 1000).toFixed(1)} s`);
    const output = r.stdout + r.stderr;
    expect(r.code, output).toBe(1);
    expect(output).not.toMatch(/Emitted 'error' event|Unhandled|at .*\.js:\d+:\d+/);
    for (const h of fleet.light) expect(r.stdout).toMatch(new RegExp(`^${h.name}\\s+\\S+\\s+ok\\s`, 'm'));
    const ledger = await readLedger();
    const reasons = Object.fromEntries(ledger.hosts.map((h) => [h.host, h.reason ?? '']));
    for (const name of [...Object.keys(HOSTILE), 'ghost']) {
      expect(r.stdout).toMatch(new RegExp(`^${name}\\s+worker\\s+FAILED\\s.*connect: `, 'm'));
      expect(ledger.hosts.find((h) => h.host === name)?.status).toBe('failed');
    }
    expect(reasons['closes-at-once']).toMatch(/closed before login|lost before handshake|ECONNRESET/);
    expect(reasons.silent).toMatch(/no SSH handshake within 3000 ms/);
    expect(reasons.ghost).toMatch(/cannot resolve no-such-host\.invalid/);
    // --retry-failed picks exactly them up (and fails them again, in order).
    const retry = await kubeforge(['up', '-i', inventory, '--playbooks', playbooks, '--retry-failed'], { timeoutMs: 180_000 });
    expect(retry.code, retry.stdout + retry.stderr).toBe(1);
    expect(retry.stderr).toContain(`retrying 5 host(s) that failed or were blocked: ${[...Object.keys(HOSTILE), 'ghost'].join(', ')}`);
  });

  it('sshd throttling new connections (MaxStartups): retried with backoff, then each host ok or failed with the reason', async () => {
    // 24 inventory hosts behind one sshd that drops most unauthenticated connections beyond 2
    // (MaxStartups 2:80:4): as many operators meet it behind a bastion or on a busy host.
    const [cp, worker] = fleet.light as [TestHost, TestHost];
    const config = path.join(worker.record.dir, 'sshd_config');
    const original = await fs.readFile(config, 'utf8');
    await fs.writeFile(config, original.replace(/^MaxStartups .*$/m, 'MaxStartups 2:80:4').replace(/^ListenAddress .*$/m, 'ListenAddress 0.0.0.0'));
    process.kill(worker.record.initPid, 'SIGHUP');
    await new Promise((r) => setTimeout(r, 500));
    try {
      // Each inventory host needs its own address: give the worker 24 more on its interface
      // (in the fleet's own /26), all answered by the same sshd.
      const octets = worker.address.split('.').map(Number);
      const base = octets[3]! & ~63;
      const extra = Array.from({ length: 24 }, (_, i) => `${octets.slice(0, 3).join('.')}.${base + 30 + i}`);
      const dev = (await worker.sh("ip -o -4 addr show | awk -v a=" + worker.address + " 'index($4, a\"/\") == 1 { print $2 }'")).trim();
      for (const a of extra) await worker.exec(`ip addr add ${a}/32 dev ${dev} 2>/dev/null || true`);
      await writeStubInventory(fleet, fixture, dir, fleet.light, {
        extraHosts: extra.map((address, i) => ({ name: `crowd-${i}`, address, role: 'worker' })),
        ssh: { connectTimeout: '3s' },
      });
      await fs.appendFile(path.join(dir, 'known_hosts'), extra.map((a) => `${a} ${worker.record.hostKeyPublic}\n`).join(''));
      const started = Date.now();
      const r = await kubeforge(['up', '-i', inventory, '--playbooks', playbooks, '--concurrency', '30'], { timeoutMs: 300_000 });
      const ledger = await readLedger();
      const failed = ledger.hosts.filter((h) => h.status !== 'ok');
      console.log(`FIGURE 26 hosts, 25 behind one sshd with MaxStartups 2:80:4: ${((Date.now() - started) / 1000).toFixed(1)} s, ${ledger.hosts.length - failed.length} ok, ${failed.length} failed`);
      expect(r.stdout + r.stderr).not.toMatch(/Emitted 'error' event|Unhandled|^\s+at /m);
      expect([0, 1]).toContain(r.code);
      expect(ledger.hosts).toHaveLength(26);
      expect(r.stdout).toMatch(new RegExp(`^${cp.name}\\s+control-plane\\s+ok\\s`, 'm'));
      for (const h of failed) {
        expect(h.status, h.host).toBe('failed');
        expect(h.reason, h.host).toMatch(/^connect: .*(closed before login|lost before handshake|ECONNRESET|no SSH handshake)/);
      }
    } finally {
      await fs.writeFile(config, original);
      process.kill(worker.record.initPid, 'SIGHUP');
      await new Promise((r) => setTimeout(r, 500));
    }
  });

  it('fails a host whose connection is reset in the middle of a command, the other finishing', async () => {
    await writeInventory(false);
    const [cp, worker] = fleet.light as [TestHost, TestHost];
    await worker.exec('rm -f /tmp/kf-hostile-started');
    const run = kubeforgeInBackground(['up', '-i', inventory, '--playbooks', playbooks]);
    await waitFor('the step to start on the worker', async () => (await worker.exec('test -e /tmp/kf-hostile-started', { allowFail: true })).code === 0, 60_000);
    // Kill the worker's session processes (not its listening sshd): the TCP connection is reset.
    await worker.exec("pkill -KILL -f '^sshd: root' || true");
    const r = await run.done;
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.stdout + r.stderr).not.toMatch(/Emitted 'error' event|Unhandled/);
    expect(r.stdout).toMatch(new RegExp(`^${cp.name}\\s+control-plane\\s+ok\\s`, 'm'));
    expect(r.stdout).toMatch(new RegExp(`^${worker.name}\\s+worker\\s+FAILED\\s+.*prepare/work`, 'm'));
    expect((await readLedger()).hosts.find((h) => h.host === worker.name)?.status).toBe('failed');
  });

  it('turns an error that escapes every handler into a stopped run with a summary, a ledger and exit 70', async () => {
    await writeInventory(false);
    // Injected from outside kubeforge's code: an 'error' event nobody listens to, mid-run.
    const inject = path.join(dir, 'inject-unhandled.mjs');
    await fs.writeFile(
      inject,
      "import { EventEmitter } from 'node:events';\nsetTimeout(() => new EventEmitter().emit('error', new Error('injected by the test')), 1500);\n",
    );
    const r = await kubeforge(['up', '-i', inventory, '--playbooks', playbooks], { env: { NODE_OPTIONS: `--import=${inject}` }, timeoutMs: 120_000 });
    const output = r.stdout + r.stderr;
    expect(r.code, output).toBe(70);
    expect(output).toContain('internal error (this is a bug in kubeforge): Error: injected by the test');
    expect(output).not.toMatch(/^\s+at /m);
    expect(r.stdout).toMatch(/^HOST\s+ROLE\s+STATUS/m);
    const ledger = await readLedger();
    expect(ledger.exitCode).toBe(70);
    for (const h of ledger.hosts) expect(h.status).toBe('cancelled');
    expect(ledger.hosts[0]!.reason).toMatch(/run stopped: internal error/);
  });
});
