import { describe, expect, it } from 'vitest';
import { SudoError } from '../ssh/errors.js';
import type { ExecOptions, ExecResult, Remote } from './remote.js';
import { rootAccessProblem } from './root-access.js';

function remoteAnswering(answer: (script: string, opts?: ExecOptions) => Promise<ExecResult>): Remote & { scripts: string[] } {
  const scripts: string[] = [];
  return {
    name: 'cp1',
    scripts,
    exec: (script, opts) => {
      scripts.push(script);
      return answer(script, opts);
    },
    upload: () => Promise.reject(new Error('not used')),
    writeFile: () => Promise.reject(new Error('not used')),
    close: () => undefined,
  };
}

const signal = new AbortController().signal;

describe('rootAccessProblem', () => {
  it('is satisfied when the command runs as uid 0, and changes nothing to find out', async () => {
    const remote = remoteAnswering(async () => ({ code: 0, stdout: '0\n', stderr: '' }));
    expect(await rootAccessProblem(remote, 'admin', signal)).toBeUndefined();
    expect(remote.scripts).toEqual(['id -u']);
  });

  it('reads the last line of output, after anything a login shell printed', async () => {
    const remote = remoteAnswering(async () => ({ code: 0, stdout: 'Welcome!\n0\n', stderr: '' }));
    expect(await rootAccessProblem(remote, 'admin', signal)).toBeUndefined();
  });

  it("names what sudo said when it refuses a user who is not in sudoers, with a sudoers hint", async () => {
    const remote = remoteAnswering(async () => ({
      code: 1,
      stdout: '',
      stderr: 'kfnosudo is not in the sudoers file.  This incident will be reported.\n',
    }));
    expect(await rootAccessProblem(remote, 'kfnosudo', signal)).toEqual({
      message: 'kfnosudo cannot run commands as root (sudo said: kfnosudo is not in the sudoers file.  This incident will be reported.)',
      hint: 'give kfnosudo sudo rights on the host (a sudoers rule such as "kfnosudo ALL=(ALL:ALL) NOPASSWD: ALL"), or log in as root',
    });
  });

  it('passes on a SudoError with its own hint (a password is wanted and none is configured)', async () => {
    const remote = remoteAnswering(async () => {
      throw new SudoError('cp1: sudo asks for a password and none is configured', 'set ssh.sudoPasswordEnv');
    });
    expect(await rootAccessProblem(remote, 'deploy', signal)).toEqual({
      message: 'deploy cannot run commands as root: cp1: sudo asks for a password and none is configured',
      hint: 'set ssh.sudoPasswordEnv',
    });
  });

  it('refuses a command that ran, but not as root', async () => {
    const remote = remoteAnswering(async () => ({ code: 0, stdout: '1000\n', stderr: '' }));
    expect((await rootAccessProblem(remote, 'deploy', signal))?.message).toBe('deploy cannot run commands as root (the command ran as uid 1000)');
  });
});
