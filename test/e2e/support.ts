// Shared by the end-to-end tests: whether this machine can run them, and an OpenSSH client
// used as an independent oracle (never kubeforge's own SSH layer).
import { execFileSync, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { run, type RunResult } from '../hosts/exec.js';
import type { Fleet } from '../hosts/fleet.js';
import type { TestHost } from '../hosts/host.js';

const REQUIRED_COMMANDS = ['tmux', 'systemd-nspawn', 'debootstrap', 'ip', 'nsenter', 'unshare', 'ssh', 'ssh-keygen', '/usr/sbin/sshd', 'apt-get', 'dpkg-deb'];

function missingCommands(): string[] {
  return REQUIRED_COMMANDS.filter((cmd) => {
    try {
      execFileSync('/bin/sh', ['-c', 'command -v "$1"', 'sh', cmd], { stdio: 'ignore' });
      return false;
    } catch {
      return true;
    }
  });
}

/**
 * Why end-to-end tests cannot run here, or undefined when they can. Under CI=true a reason is
 * an error, not a skip: CI must run them or fail loudly.
 */
export function e2eUnavailableReason(): string | undefined {
  let reason: string | undefined;
  if (process.getuid?.() !== 0) reason = 'end-to-end tests need root (they create network namespaces, mounts and containers)';
  else {
    const missing = missingCommands();
    if (missing.length > 0) reason = `end-to-end tests need these commands: ${missing.join(', ')} (see .ci/run for the Debian packages)`;
  }
  if (reason && process.env.CI === 'true') {
    throw new Error(`CI=true but ${reason}`);
  }
  if (reason) process.stderr.write(`SKIPPING end-to-end tests: ${reason}\n`);
  return reason;
}

/** Run a command on a test host with the OpenSSH client, host key checked against the fleet's known_hosts. */
export function ssh(fleet: Fleet, host: TestHost, command: string, opts: { allowFail?: boolean; user?: string } = {}): Promise<RunResult> {
  return run(
    'ssh',
    [
      '-i', fleet.clientKey,
      '-o', `UserKnownHostsFile=${fleet.knownHosts}`,
      '-o', 'StrictHostKeyChecking=yes',
      '-o', 'BatchMode=yes',
      '-o', 'ConnectTimeout=10',
      '-o', 'LogLevel=ERROR',
      '-p', String(host.port),
      `${opts.user ?? 'root'}@${host.address}`,
      command,
    ],
    { allowFail: opts.allowFail },
  );
}

/** The built CLI (tests run from source; `npm test` builds dist/ first). */
export const CLI = fileURLToPath(new URL('../../dist/src/cli.js', import.meta.url));

/** Runs the built kubeforge CLI (npm test builds it first) without a terminal. */
export function kubeforge(args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number } = {}): Promise<RunResult> {
  return run(process.execPath, [CLI, ...args], {
    allowFail: true,
    env: { ...process.env, ...opts.env },
    ...(opts.cwd ? { cwd: opts.cwd } : {}),
    timeoutMs: opts.timeoutMs ?? 15 * 60_000,
  });
}

export interface RunningCli {
  child: import('node:child_process').ChildProcess;
  /** Output so far (stdout and stderr interleaved). */
  output(): string;
  done: Promise<RunResult>;
}

/** Starts the CLI in the background, for tests that act while it runs (faults, Ctrl-C). */
export function kubeforgeInBackground(args: string[], opts: { env?: NodeJS.ProcessEnv } = {}): RunningCli {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...opts.env } });
  let stdout = '';
  let stderr = '';
  let both = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => ((stdout += d), (both += d)));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => ((stderr += d), (both += d)));
  const done = new Promise<RunResult>((resolve) => child.on('close', (code, signal) => resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr })));
  return { child, output: () => both, done };
}

/** Polls `probe` until it returns true, or fails the test after timeoutMs saying what it waited for. */
export async function waitFor(what: string, probe: () => Promise<boolean>, timeoutMs = 60_000, intervalMs = 100): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await probe()) return;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}
