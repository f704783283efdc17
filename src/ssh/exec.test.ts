import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installFakeSudo, type FakeSudo } from '../../test/support/fake-sudo.js';
import {
  describeWithSshd,
  processRunning,
  sshSettings,
  sshTarget,
  startSshd,
  type TestSshd,
} from '../../test/support/sshd.js';
import { connect } from './connect.js';
import type { Connection } from './connection.js';
import { AbortError, CommandError, CommandTimeoutError, SudoError } from './errors.js';

/** A `sleep` with a duration no other process on this machine uses, so pgrep finds only ours. */
function uniqueSleep(): string {
  return `sleep ${3000 + Math.floor(Math.random() * 1_000_000) / 1000}`;
}

async function waitFor(condition: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

const NASTY = `it's "$(touch /tmp/kubeforge-pwned)" \`id\` ; $HOME \\ *\n\ttab and ünïcødé`;

describeWithSshd('exec as root (real sshd)', () => {
  let sshd: TestSshd;
  let conn: Connection;

  beforeAll(async () => {
    sshd = await startSshd();
    conn = await connect(sshTarget(sshd, 'node-1'), sshSettings(sshd));
  });
  afterAll(async () => {
    conn?.close();
    await sshd?.stop();
  });

  it('returns exit code, stdout and stderr separately', async () => {
    expect(await conn.exec('echo out; echo err >&2; exit 3')).toEqual({ code: 3, stdout: 'out\n', stderr: 'err\n' });
    expect(await conn.exec('true')).toEqual({ code: 0, stdout: '', stderr: '' });
  });

  it('runs the command with POSIX sh semantics whatever the login shell', async () => {
    // `[[` is a bash-ism: under sh it fails, proving the command did not run in root's bash.
    const result = await conn.exec('[[ 1 == 1 ]] && echo bash || echo sh');
    expect(result.stdout).toBe('sh\n');
  });

  it('passes env values exactly, to every part of a compound command', async () => {
    const result = await conn.exec(`cd / && printf '%s' "$NASTY"; printf '|%s' "$EMPTY"`, {
      env: { NASTY, EMPTY: '' },
    });
    expect(result.stdout).toBe(`${NASTY}|`);
    expect(result.code).toBe(0);
  });

  it('refuses env names that are not plain variable names', async () => {
    await expect(conn.exec('true', { env: { 'A;B': 'x' } })).rejects.toThrow(/invalid environment variable name/);
  });

  it('delivers stdin byte for byte, text or binary', async () => {
    expect((await conn.exec('cat', { stdin: NASTY })).stdout).toBe(NASTY);
    const binary = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    const result = await conn.exec('od -An -v -tx1 | tr -d " \\n"', { stdin: binary });
    expect(result.stdout).toBe(binary.toString('hex'));
    // no stdin: the command sees EOF at once instead of hanging
    expect((await conn.exec('cat; echo done')).stdout).toBe('done\n');
  });

  it('execOrThrow raises CommandError with the exit code and the last 20 lines', async () => {
    const failing = 'for i in $(seq 1 30); do echo "out $i"; echo "err $i" >&2; done; exit 42';
    const err = (await conn.execOrThrow(failing).catch((e: unknown) => e)) as CommandError;
    expect(err).toBeInstanceOf(CommandError);
    expect(err.code).toBe(42);
    expect(err.command).toBe(failing);
    expect(err.stderrTail.split('\n')).toEqual(Array.from({ length: 20 }, (_, i) => `err ${i + 11}`));
    expect(err.stdoutTail.split('\n')[19]).toBe('out 30');
    expect(err.message).toMatch(/^node-1: `for i in .*` exited with code 42\nstderr \(last lines\):\n  err 11\n/);
    expect((await conn.execOrThrow('echo fine')).stdout).toBe('fine\n');
  });

  it('kills the remote processes on timeout', async () => {
    const sleep = uniqueSleep();
    const started = Date.now();
    const running = conn.exec(`${sleep} & ${sleep}; wait`, { timeoutMs: 1000 });
    await waitFor(() => processRunning(sleep), 'the command to start');
    await expect(running).rejects.toThrow(CommandTimeoutError);
    await expect(running).rejects.toThrow(/^node-1: `.*` did not finish within 1 s and was killed$/);
    expect(Date.now() - started).toBeLessThan(8000);
    expect(await processRunning(sleep)).toBe(false);
  });

  it('still kills a command whose timeout fires before it reported in', async () => {
    const sleep = uniqueSleep();
    await expect(conn.exec(sleep, { timeoutMs: 1 })).rejects.toThrow(CommandTimeoutError);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await processRunning(sleep)).toBe(false);
  });

  it('kills the remote processes on abort', async () => {
    const sleep = uniqueSleep();
    const controller = new AbortController();
    const running = conn.exec(sleep, { signal: controller.signal });
    await waitFor(() => processRunning(sleep), 'the command to start');
    controller.abort();
    await expect(running).rejects.toThrow(AbortError);
    expect(await processRunning(sleep)).toBe(false);
    // an already aborted signal never starts anything
    await expect(conn.exec('true', { signal: controller.signal })).rejects.toThrow(AbortError);
  });

  it('keeps only the last MiB of a huge output', async () => {
    const result = await conn.exec("head -c 3000000 /dev/zero | tr '\\0' a; echo END");
    expect(result.code).toBe(0);
    expect(result.stdout.length).toBe(1024 * 1024);
    expect(result.stdout.endsWith('aaaEND\n')).toBe(true);
  });

  it('queues commands beyond the server session limit instead of failing them', async () => {
    // sshd allows 10 sessions per connection; 25 at once only work through the limiter.
    const results = await Promise.all(
      Array.from({ length: 25 }, (_, i) => conn.exec(`sleep 0.2; echo ${i}`)),
    );
    expect(results.map((r) => r.stdout)).toEqual(Array.from({ length: 25 }, (_, i) => `${i}\n`));
  });

  it('runs sudo commands directly as root (no sudo needed or installed)', async () => {
    expect((await conn.exec('id -u', { sudo: true })).stdout).toBe('0\n');
  });
});

describeWithSshd('exec as a user who needs sudo (real sshd, stand-in sudo)', () => {
  let dir: string;
  let fake: FakeSudo;
  let sshd: TestSshd;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kubeforge-fake-sudo-'));
    fake = await installFakeSudo(dir);
    sshd = await startSshd({ extraPath: fake.binDir });
  });
  afterAll(async () => {
    await sshd?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const open = (sudoPassword?: string) =>
    connect(sshTarget(sshd, 'node-2'), sshSettings(sshd, sudoPassword === undefined ? {} : { sudoPassword }), { probeUid: true });

  it('sees a non-root user and wraps sudo commands in sudo', async () => {
    await fake.requirePassword(undefined);
    const conn = await open();
    try {
      expect(conn.isRoot).toBe(false);
      const result = await conn.exec('printf %s "$NASTY"', { sudo: true, env: { NASTY } });
      expect(result).toEqual({ code: 0, stdout: NASTY, stderr: '' });
      expect(await fake.log()).toContain('sh -c');
    } finally {
      conn.close();
    }
  });

  it('answers the password prompt and sends stdin only to the command', async () => {
    await fake.requirePassword('s3cret pass');
    const conn = await open('s3cret pass');
    try {
      const result = await conn.exec('cat; echo "exit=$?" >&2', { sudo: true, stdin: 'payload\n' });
      expect(result).toEqual({ code: 0, stdout: 'payload\n', stderr: 'exit=0\n' });
    } finally {
      conn.close();
    }
  });

  it('never feeds the password to a command when sudo does not ask for it', async () => {
    await fake.requirePassword(undefined);
    const conn = await open('s3cret pass');
    try {
      const result = await conn.exec('cat', { sudo: true, stdin: 'payload' });
      expect(result.stdout).toBe('payload');
      expect(result.stdout).not.toContain('s3cret');
    } finally {
      conn.close();
    }
  });

  it('fails fast when sudo wants a password and none is configured', async () => {
    await fake.requirePassword('s3cret pass');
    const conn = await open();
    try {
      const started = Date.now();
      await expect(conn.exec('id', { sudo: true })).rejects.toThrow(SudoError);
      await expect(conn.exec('id', { sudo: true })).rejects.toThrow(/node-2: sudo asks for a password and none is configured/);
      expect(Date.now() - started).toBeLessThan(5000);
    } finally {
      conn.close();
    }
  });

  it('reports a wrong sudo password as such', async () => {
    await fake.requirePassword('right');
    const conn = await open('wrong');
    try {
      await expect(conn.exec('id', { sudo: true })).rejects.toThrow(/node-2: sudo did not accept the password/);
    } finally {
      conn.close();
    }
  });

  it('kills a sudo command on timeout', async () => {
    await fake.requirePassword('pw');
    const conn = await open('pw');
    try {
      const sleep = uniqueSleep();
      const running = conn.exec(sleep, { sudo: true, timeoutMs: 1000 });
      await waitFor(() => processRunning(sleep), 'the command to start');
      await expect(running).rejects.toThrow(CommandTimeoutError);
      expect(await processRunning(sleep)).toBe(false);
    } finally {
      conn.close();
    }
  });
});

describe('exec without sshd', () => {
  it('has a typed timeout error message', () => {
    expect(new CommandTimeoutError('h', 'sleep 5', 1500).message).toBe('h: `sleep 5` did not finish within 1500 ms and was killed');
  });
});
