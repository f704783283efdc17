import { execFile } from 'node:child_process';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  describeWithSshd,
  exists,
  sshSettings,
  sshTarget,
  startSshd,
  type TestSshd,
} from '../../test/support/sshd.js';
import { connect } from './connect.js';
import { AbortError, AuthError, ConnectError, HostKeyError } from './errors.js';
import { fingerprintOf } from './host-key.js';

const run = promisify(execFile);

describeWithSshd('connect (real sshd)', () => {
  let sshd: TestSshd;

  beforeAll(async () => {
    sshd = await startSshd();
  });
  afterAll(async () => {
    await sshd?.stop();
  });

  it('logs in with a key and knows it is root', async () => {
    const conn = await connect(sshTarget(sshd), sshSettings(sshd));
    try {
      expect(conn.isRoot).toBe(true);
      expect(conn.user).toBe('root');
      expect((await conn.exec('echo hello')).stdout).toBe('hello\n');
    } finally {
      conn.close();
    }
  });

  it('logs in with a passphrase-protected key', async () => {
    const conn = await connect(
      sshTarget(sshd),
      sshSettings(sshd, { keyFile: sshd.clientKeyWithPassphrasePath, passphrase: sshd.clientKeyPassphrase }),
    );
    conn.close();
  });

  it('names a wrong or missing passphrase before dialling', async () => {
    const wrong = connect(
      sshTarget(sshd, 'node-a'),
      sshSettings(sshd, { keyFile: sshd.clientKeyWithPassphrasePath, passphrase: 'nope' }),
    );
    await expect(wrong).rejects.toThrow(AuthError);
    await expect(wrong).rejects.toThrow(/node-a: cannot use ssh key file .*bad passphrase/);
    const missing = connect(sshTarget(sshd), sshSettings(sshd, { keyFile: sshd.clientKeyWithPassphrasePath }));
    await expect(missing).rejects.toMatchObject({ hint: expect.stringMatching(/passphrase/) });
  });

  it('logs in through an ssh-agent', async () => {
    const socket = join(sshd.dir, 'agent.sock');
    const agent = await run('ssh-agent', ['-a', socket, '-s']);
    const pid = /SSH_AGENT_PID=(\d+)/.exec(agent.stdout)?.[1];
    try {
      await run('ssh-add', [sshd.clientKeyPath], { env: { ...process.env, SSH_AUTH_SOCK: socket } });
      const conn = await connect(sshTarget(sshd), sshSettings(sshd, { keyFile: undefined, agentSocket: socket }));
      expect((await conn.exec('echo via-agent')).stdout).toBe('via-agent\n');
      conn.close();
    } finally {
      if (pid) process.kill(Number(pid));
    }
  });

  it('refuses a key the host does not accept, without retrying', async () => {
    const otherKey = join(sshd.dir, 'stranger');
    await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', otherKey]);
    const retries: number[] = [];
    const attempt = connect(sshTarget(sshd, 'node-b'), sshSettings(sshd, { keyFile: otherKey }), {
      onRetry: (n) => retries.push(n),
    });
    await expect(attempt).rejects.toThrow(AuthError);
    await expect(attempt).rejects.toThrow(/^node-b \(root@127\.0\.0\.1 port \d+\): the host refused every credential/);
    expect(retries).toEqual([]);
  });

  it('refuses an unknown host, and records it when new keys are accepted', async () => {
    const knownHostsFile = join(sshd.dir, 'tofu', 'known_hosts');
    const refused = connect(sshTarget(sshd, 'node-c'), sshSettings(sshd, { knownHostsFile }));
    await expect(refused).rejects.toThrow(HostKeyError);
    await expect(refused).rejects.toThrow(/node-c .*is not in .*known_hosts/);
    await expect(refused).rejects.toMatchObject({ kind: 'unknown', hint: expect.stringContaining('--accept-new-host-keys') });
    expect(await exists(knownHostsFile)).toBe(false);

    const accepted = await connect(sshTarget(sshd), sshSettings(sshd, { knownHostsFile, acceptNewHostKeys: true }));
    accepted.close();
    expect(await readFile(knownHostsFile, 'utf8')).toBe(`[127.0.0.1]:${sshd.port} ${sshd.hostKeyPublic}\n`);

    // Recorded once: the next connection is trusted without the flag and adds nothing.
    const again = await connect(sshTarget(sshd), sshSettings(sshd, { knownHostsFile }));
    again.close();
    expect((await readFile(knownHostsFile, 'utf8')).split('\n')).toHaveLength(2);
  });

  it('refuses a changed host key with both fingerprints and the line to fix', async () => {
    const impostor = join(sshd.dir, 'impostor');
    await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', impostor]);
    const impostorPublic = (await readFile(`${impostor}.pub`, 'utf8')).split(' ').slice(0, 2).join(' ');
    const knownHostsFile = join(sshd.dir, 'changed_known_hosts');
    await writeFile(knownHostsFile, `# old entry\n[127.0.0.1]:${sshd.port} ${impostorPublic}\n`);

    const attempt = connect(sshTarget(sshd, 'node-d'), sshSettings(sshd, { knownHostsFile, acceptNewHostKeys: true }));
    const known = fingerprintOf(Buffer.from(impostorPublic.split(' ')[1]!, 'base64'));
    const presented = fingerprintOf(Buffer.from(sshd.hostKeyPublic.split(' ')[1]!, 'base64'));
    await expect(attempt).rejects.toMatchObject({ kind: 'changed' });
    const err = (await attempt.catch((e: unknown) => e)) as HostKeyError;
    expect(err.message).toContain('node-d');
    expect(err.message).toContain(`${knownHostsFile}:2`);
    expect(err.message).toContain(known);
    expect(err.message).toContain(presented);
    expect(err.hint).toContain(`delete line 2 of ${knownHostsFile}`);
    // acceptNewHostKeys never overwrites a changed key
    expect(await readFile(knownHostsFile, 'utf8')).not.toContain(sshd.hostKeyPublic);
  });

  it('retries a refused connection with backoff, then names the host', async () => {
    const closedPort = sshd.port === 65535 ? 65534 : sshd.port + 1;
    const retries: number[] = [];
    const started = Date.now();
    const attempt = connect(
      { host: '127.0.0.1', port: closedPort, name: 'node-e' },
      sshSettings(sshd, { port: closedPort }),
      { retries: 2, backoff: { initialMs: 50, maxMs: 1000 }, onRetry: (n) => retries.push(n) },
    );
    await expect(attempt).rejects.toThrow(ConnectError);
    await expect(attempt).rejects.toMatchObject({ retryable: true, message: expect.stringMatching(/^node-e .*ECONNREFUSED/) });
    expect(retries).toEqual([1, 2]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(75); // at least half of 50 + 100 ms of (jittered) backoff
  });

  it('stops retrying as soon as the caller aborts', async () => {
    const closedPort = sshd.port === 65535 ? 65534 : sshd.port + 1;
    const controller = new AbortController();
    const attempt = connect(
      { host: '127.0.0.1', port: closedPort, name: 'node-f' },
      sshSettings(sshd, { port: closedPort }),
      {
        signal: controller.signal,
        retries: 5,
        backoff: { initialMs: 10_000, maxMs: 10_000 },
        onRetry: () => controller.abort(),
      },
    );
    const started = Date.now();
    await expect(attempt).rejects.toThrow(AbortError);
    await expect(attempt).rejects.toThrow(/^node-f: connecting aborted$/);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('fails on a missing key file with the path in the message', async () => {
    const missing = join(sshd.dir, 'no-such-key');
    await rm(missing, { force: true });
    await expect(connect(sshTarget(sshd), sshSettings(sshd, { keyFile: missing }))).rejects.toThrow(
      new RegExp(`cannot read ssh key file ${missing}`),
    );
  });

  it('prefers ECDH on P-256 in the key exchange, and still logs in where a server offers only curve25519', async () => {
    // Why P-256 first: KEX_ALGORITHMS (Node can deadlock in the key generation curve25519 needs).
    const debug = await startSshd({ extraConfig: ['LogLevel DEBUG1'] });
    const onlyCurve25519 = await startSshd({ extraConfig: ['KexAlgorithms curve25519-sha256'] });
    try {
      (await connect(sshTarget(debug), sshSettings(debug))).close();
      expect(debug.log()).toMatch(/kex: algorithm: ecdh-sha2-nistp256\b/);
      const conn = await connect(sshTarget(onlyCurve25519), sshSettings(onlyCurve25519));
      try {
        expect((await conn.exec('echo hello')).stdout).toBe('hello\n');
      } finally {
        conn.close();
      }
    } finally {
      await Promise.all([debug.stop(), onlyCurve25519.stop()]);
    }
  });
});
