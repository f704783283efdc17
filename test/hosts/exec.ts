// Running commands on this machine for the test-host harness. Errors carry the command and
// its output (as zx does), so a failed `ip` or `mount` says what went wrong.
import { spawn } from 'node:child_process';
import { access } from 'node:fs/promises';

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export class HarnessCommandError extends Error {
  constructor(
    readonly argv: string[],
    readonly result: RunResult,
  ) {
    const tail = (result.stderr || result.stdout).trim().split('\n').slice(-15).join('\n');
    super(`harness command failed (exit ${result.code}): ${argv.join(' ')}\n${tail}`);
  }
}

export interface RunOptions {
  input?: string;
  /** Resolve with the result instead of throwing on a non-zero exit. */
  allowFail?: boolean;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  timeoutMs?: number;
}

export function run(file: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      env: opts.env ?? process.env,
      cwd: opts.cwd,
    });
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = opts.timeoutMs
      ? setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs).unref()
      : undefined;
    child.on('error', (err) => {
      if (timer) clearTimeout(timer);
      reject(new Error(`cannot run ${file}: ${err.message}`));
    });
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      const result = { code: code ?? (signal ? 128 : 1), stdout, stderr };
      if (result.code !== 0 && !opts.allowFail) reject(new HarnessCommandError([file, ...args], result));
      else resolve(result);
    });
    if (child.stdin) {
      // A command may exit without reading its input; that is its answer, not our error.
      child.stdin.on('error', () => {});
      child.stdin.end(opts.input);
    }
  });
}

/** Run a shell script with `set -eu`; positional arguments are passed as "$1"… never spliced in. */
export function sh(script: string, args: string[] = [], opts: RunOptions = {}): Promise<RunResult> {
  return run('/bin/sh', ['-eu', '-c', script, 'sh', ...args], opts);
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export async function pathExists(p: string): Promise<boolean> {
  try {
    await access(p);
    return true;
  } catch {
    return false;
  }
}
