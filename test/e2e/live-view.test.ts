// The live progress view in a real terminal (tmux, read back with capture-pane): with more hosts
// than the terminal has rows it still fits — its header with the counts stays on screen — it shows
// a failure as it happens, and Ctrl-C stops a 50-host run at once.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFleet, type Fleet } from '../hosts/fleet.js';
import { makeInventoryFixture, type InventoryFixture } from '../inventories/fixtures.js';
import { markAsCluster, writeStubInventory, writeStubPlaybooks } from './stub-cluster.js';
import { CLI, e2eUnavailableReason } from './support.js';

const unavailable = e2eUnavailableReason();
const SOCKET = `kf-live-${process.pid}`;
const ROWS = 30;
const COLUMNS = 100;

function tmux(...args: string[]): string {
  return execFileSync('tmux', ['-L', SOCKET, ...args], { encoding: 'utf8' });
}

/** Runs the CLI in a fresh tmux session of ROWS x COLUMNS; the pane prints KF-EXIT:<code> at the end. */
function startInTmux(args: string[]): void {
  const quoted = [process.execPath, CLI, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  // A person at a terminal: CI=true (set where the suite runs in CI) would ask for plain lines.
  tmux('new-session', '-d', '-s', 'live', '-x', String(COLUMNS), '-y', String(ROWS), `env -u CI ${quoted}; echo KF-EXIT:$?; sleep 600`);
}

/** What the terminal shows now (or, with history, everything it has shown, scrolled off included). */
function screen(history = false): string {
  return tmux('capture-pane', '-p', '-t', 'live', ...(history ? ['-S', '-1000'] : []));
}

const HEADER = /^\d+ done, \d+ running, \d+ failed, (\d+ blocked, )?(\d+ cancelled, )?\d+ waiting of (\d+) hosts/m;

describe.skipIf(unavailable)('the live view in a terminal', () => {
  let fleet: Fleet;
  let fixture: InventoryFixture;
  let dir: string;

  beforeAll(async () => {
    fleet = await startFleet({ light: 50 });
    fixture = makeInventoryFixture();
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'kf-live-'));
    await markAsCluster(fleet.light);
  });

  afterAll(async () => {
    try {
      tmux('kill-server');
    } catch {
      // no server left
    }
    await fleet?.destroy();
    fixture?.remove();
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  it('fits 24 hosts into a 30-row terminal, header on screen throughout, and shows a failure as it happens', async () => {
    const hosts = fleet.light.slice(0, 24);
    const failing = hosts[5]!.name;
    const run = path.join(dir, 'fits');
    await fs.mkdir(run);
    const playbooks = await writeStubPlaybooks(run, `if [ "$KF_HOST_NAME" = "${failing}" ]; then sleep 1; echo "the disk is on fire" >&2; exit 3; fi\nsleep 4`);
    const inventory = await writeStubInventory(fleet, fixture, run, hosts);
    startInTmux(['up', '-i', inventory, '--playbooks', playbooks]);
    const screens: string[] = [];
    const deadline = Date.now() + 120_000;
    while (Date.now() < deadline) {
      const s = screen();
      screens.push(s);
      if (s.includes('KF-EXIT:')) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    const final = screen(true);
    tmux('kill-session', '-t', 'live');
    expect(final).toContain('KF-EXIT:1');
    const during = screens.filter((s) => !s.includes('KF-EXIT:') && /⠋|⠙|⠹|⠸|⠼|⠴|⠦|⠧|⠇|⠏/.test(s));
    expect(during.length).toBeGreaterThan(3);
    console.log(`FIGURE the terminal in the middle of the run (${ROWS}x${COLUMNS}):\n${during.find((d) => d.includes('✖')) ?? during[0]}`);
    for (const s of during) {
      // The whole frame is on screen: its header was not scrolled off by too many lines.
      expect(s, s).toMatch(HEADER);
      expect(s.split('\n').length).toBeLessThanOrEqual(ROWS + 1);
    }
    expect(during.some((s) => new RegExp(`^✖ ${failing}: prepare/work`, 'm').test(s) && /\d+ running/.test(s))).toBe(true);
    expect(final).toMatch(new RegExp(`^${failing}\\s+worker\\s+FAILED`, 'm'));
    expect(final).toMatch(/^23 done, 0 running, 1 failed, 0 waiting of 24 hosts/m);
  });

  it('stops a 50-host run on Ctrl-C at once, the terminal given back', async () => {
    const run = path.join(dir, 'ctrl-c');
    await fs.mkdir(run);
    const playbooks = await writeStubPlaybooks(run, 'sleep 60');
    const inventory = await writeStubInventory(fleet, fixture, run, fleet.light);
    startInTmux(['up', '-i', inventory, '--playbooks', playbooks]);
    const deadline = Date.now() + 120_000;
    while (Date.now() < deadline && !/^0 done, 50 running/m.test(screen())) await new Promise((r) => setTimeout(r, 100));
    expect(screen()).toMatch(/^0 done, 50 running/m);
    const pressed = Date.now();
    tmux('send-keys', '-t', 'live', 'C-c');
    while (Date.now() - pressed < 30_000 && !screen().includes('KF-EXIT:')) await new Promise((r) => setTimeout(r, 50));
    const took = (Date.now() - pressed) / 1000;
    console.log(`FIGURE Ctrl-C to exit, 50 hosts in a terminal: ${took.toFixed(2)} s`);
    const s = screen();
    tmux('kill-session', '-t', 'live');
    expect(s).toContain('KF-EXIT:130');
    expect(took).toBeLessThan(2); // the issue's bound for Ctrl-C at 50 hosts (measured: about 0.3 s)
  });
});
