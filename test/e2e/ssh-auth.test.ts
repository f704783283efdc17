// The three ways kubeforge logs in, each against a real sshd on a test host: a key with a
// passphrase, an ssh-agent, and a password. What runs after login is checked on the host.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SshSettings } from '../../src/model.js';
import { connect } from '../../src/ssh/index.js';
import { run } from '../hosts/exec.js';
import { startFleet, type Fleet } from '../hosts/fleet.js';
import { e2eUnavailableReason } from './support.js';

const unavailable = e2eUnavailableReason();

describe.skipIf(unavailable)('SSH authentication against a real sshd', () => {
  let fleet: Fleet;
  let dir: string;
  let agent: { socket: string; pid: number } | undefined;

  const settings = (extra: Partial<SshSettings>): SshSettings => ({
    user: 'root',
    port: 22,
    knownHostsFile: fleet.knownHosts,
    acceptNewHostKeys: false,
    connectTimeoutMs: 5000,
    keepaliveIntervalMs: 5000,
    ...extra,
  });

  beforeAll(async () => {
    fleet = await startFleet({ light: 1, passwordAuthentication: true });
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'kf-auth-'));
  });

  afterAll(async () => {
    if (agent) process.kill(agent.pid, 'SIGTERM');
    await fleet?.destroy();
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  it('logs in with a password', async () => {
    const host = fleet.light[0]!;
    await host.sh("echo 'root:correct horse $(battery)' | chpasswd");
    const conn = await connect({ host: host.address, port: 22, name: host.name }, settings({ password: 'correct horse $(battery)' }));
    try {
      expect((await conn.exec('hostname')).stdout.trim()).toBe(host.name);
    } finally {
      conn.close();
    }
    await expect(connect({ host: host.address, port: 22, name: host.name }, settings({ password: 'wrong' }), { retries: 0 })).rejects.toThrow(/auth|denied|password/i);
  });

  it('logs in with a passphrase-protected key, and through an ssh-agent holding it', async () => {
    const host = fleet.light[0]!;
    const key = path.join(dir, 'id_ed25519');
    await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', 'open sesame', '-f', key]);
    const pub = (await fs.readFile(`${key}.pub`, 'utf8')).trim();
    await fs.appendFile(path.join(host.record.dir, 'authorized_keys'), `${pub}\n`);
    const conn = await connect({ host: host.address, port: 22, name: host.name }, settings({ keyFile: key, passphrase: 'open sesame' }));
    expect((await conn.exec('echo "$SSH_CONNECTION" | cut -d" " -f3')).stdout.trim()).toBe(host.address);
    conn.close();

    const started = await run('ssh-agent', ['-s']);
    const socket = /SSH_AUTH_SOCK=([^;]+);/.exec(started.stdout)?.[1];
    const pid = Number(/SSH_AGENT_PID=(\d+);/.exec(started.stdout)?.[1]);
    expect(socket).toBeDefined();
    agent = { socket: socket!, pid };
    // ssh-add reads a passphrase only from a terminal; load an unencrypted copy instead.
    const plain = path.join(dir, 'id_plain');
    await fs.copyFile(key, plain);
    await fs.chmod(plain, 0o600);
    await run('ssh-keygen', ['-q', '-p', '-P', 'open sesame', '-N', '', '-f', plain]);
    await run('ssh-add', [plain], { env: { ...process.env, SSH_AUTH_SOCK: socket! } });
    const viaAgent = await connect({ host: host.address, port: 22, name: host.name }, settings({ agentSocket: socket! }));
    try {
      expect((await viaAgent.exec('hostname')).stdout.trim()).toBe(host.name);
    } finally {
      viaAgent.close();
    }
  });
});
