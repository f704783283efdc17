// `up --ask-sudo-password` at a real terminal (a pseudo-terminal): asked once, not echoed, sent
// only on sudo's stdin, and the run as a non-root user with password sudo succeeds.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildArtifacts } from '../hosts/artifacts.js';
import { startFleet, type Fleet } from '../hosts/fleet.js';
import { writeFleetInventory } from '../hosts/inventory.js';
import { startPsSampler, stopPsSampler } from '../hosts/ps-sampler.js';
import { PtySession } from '../hosts/pty.js';
import { addUser } from '../hosts/users.js';
import { CLI, e2eUnavailableReason } from './support.js';

const unavailable = e2eUnavailableReason();
const USER = 'opsy';
const PASSWORD = "typed 'at' the $(terminal)";

describe.skipIf(unavailable)('up --ask-sudo-password', () => {
  let fleet: Fleet;
  let dir: string;

  beforeAll(async () => {
    fleet = await startFleet({ full: 1 });
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'kf-ask-sudo-'));
  });

  afterAll(async () => {
    await fleet?.destroy();
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  it('asks once without echoing, and the run as a password-sudo user succeeds', async () => {
    const host = fleet.full[0]!;
    const clientKeyPublic = (await fs.readFile(`${fleet.clientKey}.pub`, 'utf8')).trim();
    await addUser(host, { name: USER, sudo: 'password', password: PASSWORD, authorizedKeys: [clientKeyPublic] });
    const inventory = await writeFleetInventory(fleet, dir, {
      artifacts: await buildArtifacts('1.30.2'),
      overrides: { ssh: { user: USER } },
    });
    await startPsSampler(host);
    // A person at a terminal: CI=true (set where the suite runs in CI) would ask for plain lines.
    const env = { ...process.env };
    delete env.CI;
    const session = new PtySession(process.execPath, [CLI, 'up', '-i', inventory, '--ask-sudo-password'], { env });
    await session.answer(`sudo password for ${USER} on every host`, PASSWORD);
    const code = await session.exited;
    const samples = await stopPsSampler(host);
    const screen = session.screen();
    expect(code, screen).toBe(0);
    expect(screen).toMatch(/^full-1\s+control-plane\s+ok\s+Ready\s/m);
    // Not echoed at the prompt, not in any output, not in any process list on the host.
    expect(screen).not.toContain(PASSWORD);
    // Asked once: the prompt redraws as keys arrive, but never comes back once hosts are worked on.
    const afterRunStarted = screen.slice(screen.indexOf('full-1:'));
    expect(screen.indexOf('full-1:')).toBeGreaterThan(0);
    expect(afterRunStarted).not.toContain('sudo password for');
    expect(JSON.stringify(samples)).not.toContain(PASSWORD);
    expect(JSON.stringify(samples)).toContain('sudo');
    expect(await host.sh('systemctl is-active containerd kubelet')).toBe('active\nactive');
  });
});
