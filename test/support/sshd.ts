// A real OpenSSH sshd on 127.0.0.1 for tests of src/ssh: its own temp dir, host key, client keys
// and known_hosts file, torn down by stop(). Tests talk to the machine they run on, so "remote"
// paths are ordinary local paths.

import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants as fsConstants } from 'node:fs';
import { access, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe } from 'vitest';
import type { SshSettings } from '../../src/model.js';

const run = promisify(execFile);

export const SSHD_PATH = '/usr/sbin/sshd';

export interface TestSshd {
  host: string;
  port: number;
  /** The login user: tests run as root, and sshd only lets in the user it runs as without PAM. */
  user: string;
  /** Temp dir holding everything; tests may put their own files under `${dir}/work`. */
  dir: string;
  /** ed25519 key without a passphrase, listed in authorized_keys. */
  clientKeyPath: string;
  /** ed25519 key protected by `clientKeyPassphrase`, also listed in authorized_keys. */
  clientKeyWithPassphrasePath: string;
  clientKeyPassphrase: string;
  /** "ssh-ed25519 AAAA…" (type and base64, no comment). */
  hostKeyPublic: string;
  /** A known_hosts file with exactly the right entry for [host]:port. */
  knownHostsPath: string;
  /** What sshd logged so far (LogLevel VERBOSE): read it when a test fails for an unclear reason. */
  log(): string;
  stop(): Promise<void>;
}

export interface SshdOptions {
  /** Directory put first on PATH of every session (for fake programs such as sudo). */
  extraPath?: string;
  /** sshd_config lines put before the defaults (sshd keeps the first value of each keyword). */
  extraConfig?: string[];
}

/** Why the sshd tests cannot run here, or undefined when they can. */
export function sshdUnavailableReason(): string | undefined {
  if (process.getuid?.() !== 0) return 'sshd tests need root (sshd without PAM only admits its own user)';
  try {
    // Synchronous on purpose: describe.skipIf needs the answer while the file is collected.
    accessSync(SSHD_PATH, fsConstants.X_OK);
  } catch {
    return `${SSHD_PATH} is missing (install openssh-server)`;
  }
  return undefined;
}

/**
 * `describe` that skips (printing why) when no sshd can be started here — except under CI=true,
 * where a missing sshd must fail the run instead of silently passing it.
 */
export function describeWithSshd(name: string, body: () => void): void {
  const reason = sshdUnavailableReason();
  const skip = reason !== undefined && process.env.CI !== 'true';
  if (skip) console.warn(`skipping "${name}": ${reason}`);
  describe.skipIf(skip)(name, body);
}

export async function startSshd(options: SshdOptions = {}): Promise<TestSshd> {
  const reason = sshdUnavailableReason();
  if (reason) throw new Error(`cannot start sshd: ${reason}`);

  // sshd refuses to start without its privilege separation directory.
  await mkdir('/run/sshd', { recursive: true, mode: 0o755 });

  const dir = await mkdtemp(join(tmpdir(), 'kubeforge-sshd-'));
  try {
    const hostKey = join(dir, 'host_ed25519');
    const clientKeyPath = join(dir, 'client_ed25519');
    const clientKeyWithPassphrasePath = join(dir, 'client_ed25519_pass');
    const clientKeyPassphrase = 'correct horse $(battery) staple';
    await Promise.all([
      keygen(hostKey, ''),
      keygen(clientKeyPath, ''),
      keygen(clientKeyWithPassphrasePath, clientKeyPassphrase),
    ]);
    const authorizedKeys = join(dir, 'authorized_keys');
    await writeFile(
      authorizedKeys,
      (await readFile(`${clientKeyPath}.pub`, 'utf8')) + (await readFile(`${clientKeyWithPassphrasePath}.pub`, 'utf8')),
      { mode: 0o600 },
    );
    await mkdir(join(dir, 'work'), { mode: 0o755 });

    const port = await freePort();
    const host = '127.0.0.1';
    const configPath = join(dir, 'sshd_config');
    const config = [
      ...(options.extraConfig ?? []),
      `Port ${port}`,
      `ListenAddress ${host}`,
      `HostKey ${hostKey}`,
      `PidFile ${join(dir, 'sshd.pid')}`,
      `AuthorizedKeysFile ${authorizedKeys}`,
      'UsePAM no',
      'PermitRootLogin yes',
      'StrictModes no',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'PrintMotd no',
      'MaxSessions 10',
      'LogLevel VERBOSE',
      'Subsystem sftp internal-sftp',
      ...(options.extraPath
        ? [`SetEnv PATH=${options.extraPath}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`]
        : []),
    ];
    await writeFile(configPath, config.join('\n') + '\n');

    const hostKeyPublic = (await readFile(`${hostKey}.pub`, 'utf8')).trim().split(/\s+/).slice(0, 2).join(' ');
    const knownHostsPath = join(dir, 'known_hosts');
    await writeFile(knownHostsPath, `[${host}]:${port} ${hostKeyPublic}\n`, { mode: 0o600 });

    const child = spawn(SSHD_PATH, ['-D', '-e', '-f', configPath], { stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '';
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      log += chunk;
    });
    await waitUntilListening(child, port, () => log);

    let stopped = false;
    return {
      host,
      port,
      user: 'root',
      dir,
      clientKeyPath,
      clientKeyWithPassphrasePath,
      clientKeyPassphrase,
      hostKeyPublic,
      knownHostsPath,
      log: () => log,
      async stop() {
        if (stopped) return;
        stopped = true;
        if (child.exitCode === null && child.signalCode === null) {
          const exited = new Promise((resolve) => child.once('exit', resolve));
          child.kill('SIGTERM');
          await exited;
        }
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}

async function keygen(path: string, passphrase: string): Promise<void> {
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', passphrase, '-C', 'kubeforge-test', '-f', path]);
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Resolves once sshd says it listens; rejects with its log if it exits or stays silent. */
function waitUntilListening(child: ChildProcess, port: number, log: () => string): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`sshd did not start listening on port ${port} within 10 s:\n${log()}`));
    }, 10_000);
    const onData = () => {
      if (log().includes(`Server listening on 127.0.0.1 port ${port}`)) {
        clearTimeout(timer);
        child.stderr?.off('data', onData);
        resolve();
      }
    };
    child.stderr?.on('data', onData);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`sshd exited (${signal ?? code}) before listening:\n${log()}`));
    });
  });
}

/** True when some process's command line contains `pattern` (the sshd "remote" is this machine). */
export async function processRunning(pattern: string): Promise<boolean> {
  try {
    await run('pgrep', ['-f', pattern]);
    return true;
  } catch {
    return false;
  }
}

export async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

/** Settings that log in to `sshd` with its passphrase-less key and trust its known_hosts file. */
export function sshSettings(sshd: TestSshd, overrides: Partial<SshSettings> = {}): SshSettings {
  return {
    user: sshd.user,
    port: sshd.port,
    keyFile: sshd.clientKeyPath,
    knownHostsFile: sshd.knownHostsPath,
    acceptNewHostKeys: false,
    connectTimeoutMs: 10_000,
    keepaliveIntervalMs: 5_000,
    ...overrides,
  };
}

export function sshTarget(sshd: TestSshd, name = 'test-host'): { host: string; port: number; name: string } {
  return { host: sshd.host, port: sshd.port, name };
}
