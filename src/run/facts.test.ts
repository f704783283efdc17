// The root-access check and the facts in one round trip: what `id -u` answered decides, as when
// it ran alone; the facts script itself runs here with sh against this machine.
import { execFileSync, spawnSync } from 'node:child_process';
import os from 'node:os';
import { describe, expect, it } from 'vitest';
import { ConnectError, SudoError } from '../ssh/errors.js';
import { gatherFactsAsRoot, parseFacts, PROBED_BINARIES } from './facts.js';
import type { ExecOptions, ExecResult, Remote } from './remote.js';

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

/** Runs the script with sh -eu on this machine, with `id -u` answering `uid`. */
function localRemote(uid = '0'): Remote & { scripts: string[] } {
  return remoteAnswering(async (script, opts) => {
    const r = spawnSync('sh', ['-c', `set -eu\nid() { echo ${uid}; }\n${script}`], { env: { ...process.env, ...opts?.env }, encoding: 'utf8' });
    return { code: r.status ?? 1, stdout: r.stdout, stderr: r.stderr };
  });
}

const signal = new AbortController().signal;
const FACTS = 'os_id=debian\narch=x86_64\ncpus=2\nmem_kb=4026532\nswap=0\n';

describe('gatherFactsAsRoot: root access', () => {
  it('is satisfied when the command runs as uid 0, in one round trip that changes nothing', async () => {
    const remote = remoteAnswering(async () => ({ code: 0, stdout: `kf_uid=0\n${FACTS}`, stderr: '' }));
    const r = await gatherFactsAsRoot(remote, 'admin', signal);
    expect('facts' in r && r.facts.cpus).toBe(2);
    expect(remote.scripts).toHaveLength(1);
    expect(remote.scripts[0]).toMatch(/^echo "kf_uid=\$\(id -u\)"\n/);
  });

  it('reads the answer after anything a login shell printed', async () => {
    const remote = remoteAnswering(async () => ({ code: 0, stdout: `Welcome!\nkf_uid=0\n${FACTS}`, stderr: '' }));
    expect('facts' in (await gatherFactsAsRoot(remote, 'admin', signal))).toBe(true);
  });

  it('names what sudo said when it refuses a user who is not in sudoers, with a sudoers hint', async () => {
    const remote = remoteAnswering(async () => ({
      code: 1,
      stdout: '',
      stderr: 'kfnosudo is not in the sudoers file.  This incident will be reported.\n',
    }));
    expect(await gatherFactsAsRoot(remote, 'kfnosudo', signal)).toEqual({
      denied: {
        message: 'kfnosudo cannot run commands as root (sudo said: kfnosudo is not in the sudoers file.  This incident will be reported.)',
        hint: 'give kfnosudo sudo rights on the host (a sudoers rule such as "kfnosudo ALL=(ALL:ALL) NOPASSWD: ALL"), or log in as root',
      },
    });
  });

  it('passes on a SudoError with its own hint (a password is wanted and none is configured)', async () => {
    const remote = remoteAnswering(async () => {
      throw new SudoError('cp1: sudo asks for a password and none is configured', 'set ssh.sudoPasswordEnv');
    });
    expect(await gatherFactsAsRoot(remote, 'deploy', signal)).toEqual({
      denied: { message: 'deploy cannot run commands as root: cp1: sudo asks for a password and none is configured', hint: 'set ssh.sudoPasswordEnv' },
    });
  });

  it('fails the facts, not the root access, when the connection is lost on the way', async () => {
    const remote = remoteAnswering(async () => {
      throw new Error('cp1: connection lost while running `kf_uid=$(id -u)`');
    });
    await expect(gatherFactsAsRoot(remote, 'root', signal)).rejects.toThrow('cp1: connection lost');
  });

  it('refuses a command that ran, but not as root, whatever the facts said', async () => {
    const r = await gatherFactsAsRoot(localRemote('1000'), 'deploy', signal);
    expect('denied' in r && r.denied.message).toBe('deploy cannot run commands as root (the command ran as uid 1000)');
  });

  it('fails the facts, not the root access, when the facts script fails as root', async () => {
    const remote = remoteAnswering(async () => ({ code: 2, stdout: 'kf_uid=0\nos_id=debian\n', stderr: 'sh: 3: something broke\n' }));
    await expect(gatherFactsAsRoot(remote, 'root', signal)).rejects.toThrow('gathering host facts failed (exit 2): sh: 3: something broke');
  });
});

describe('gatherFactsAsRoot: a script along with the facts', () => {
  const along = { script: 'echo "along says $KF_ALONG_VALUE"; echo "along err" >&2; printf "kf_uid=9\\n"', env: { KF_ALONG_VALUE: 'hi' }, timeoutMs: 1000 };

  it('runs it after the facts, as root only, and hands its output back apart from theirs', async () => {
    const remote = localRemote();
    const r = await gatherFactsAsRoot(remote, 'root', signal, { along });
    if (!('facts' in r)) throw new Error(r.denied.message);
    expect(r.along).toEqual({ stdout: 'along says hi\nkf_uid=9\n', stderr: 'along err\n' });
    expect(r.facts.hostname).toBe(execFileSync('hostname', { encoding: 'utf8' }).trim());
    expect(remote.scripts).toHaveLength(1);
  });

  it('does not ask a root login for its uid (connect takes a root login for uid 0)', async () => {
    const remote = Object.assign(localRemote('1000'), { loginIsRoot: true });
    const r = await gatherFactsAsRoot(remote, 'root', signal, { along });
    expect('facts' in r && r.along?.stdout).toBe('along says hi\nkf_uid=9\n');
    expect(remote.scripts[0]).not.toContain('id -u');
  });

  it('does not run it when the commands did not reach root', async () => {
    const r = await gatherFactsAsRoot(localRemote('1000'), 'deploy', signal, { along });
    expect('denied' in r && r.denied.message).toBe('deploy cannot run commands as root (the command ran as uid 1000)');
  });

  it('keeps the facts when the connection is lost while the other script runs, not before', async () => {
    const lostAfter = (cut: (stdout: string) => string) =>
      remoteAnswering(async (script, opts) => {
        const r = spawnSync('sh', ['-c', script], { env: { ...process.env, ...opts?.env }, encoding: 'utf8' });
        const lost = new ConnectError('cp1: connection lost while running `kf_uid=$(id -u)`', undefined, false);
        lost.partialOutput = { stdout: cut(r.stdout), stderr: r.stderr };
        throw lost;
      });
    const r = await gatherFactsAsRoot(lostAfter((out) => out), 'root', signal, { along });
    expect('facts' in r && r.facts.hostname).toBe(execFileSync('hostname', { encoding: 'utf8' }).trim());
    expect('along' in r).toBe(false);
    // Cut before the facts were all there: the lost connection is the answer.
    await expect(gatherFactsAsRoot(lostAfter((out) => out.slice(0, out.indexOf('kubeforge-facts-end-'))), 'root', signal, { along })).rejects.toThrow('connection lost');
  });

  it('keeps the failure of the facts script, whatever the other script did', async () => {
    const remote = remoteAnswering(async (script, opts) => {
      const broken = script.replace('echo "os_id=', 'false; exit 7; echo "os_id=');
      const r = spawnSync('sh', ['-c', broken], { env: { ...process.env, ...opts?.env }, encoding: 'utf8' });
      return { code: r.status ?? 1, stdout: r.stdout, stderr: r.stderr };
    });
    await expect(gatherFactsAsRoot(remote, 'root', signal, { along })).rejects.toThrow(/gathering host facts failed \(exit 7\)/);
  });
});

describe('parseFacts: listening ports', () => {
  it('reads ports in hex (from /proc/net/tcp) and in decimal (from ss), together', () => {
    expect([...parseFacts('listen_hex=0016 192B\nlisten_dec=\n').listeningPorts]).toEqual([22, 6443]);
    expect([...parseFacts('listen_dec=22 10250 22 \n').listeningPorts]).toEqual([22, 10250]);
    expect(parseFacts('listen_dec=\n').listeningPorts.size).toBe(0);
  });
});

describe('gatherFactsAsRoot: the facts script on this machine', () => {
  it('says what this machine is', async () => {
    const r = await gatherFactsAsRoot(localRemote(), 'root', signal);
    if (!('facts' in r)) throw new Error(r.denied.message);
    const { facts } = r;
    expect(facts.hostname).toBe(execFileSync('hostname', { encoding: 'utf8' }).trim());
    expect(facts.arch).toBe(execFileSync('uname', ['-m'], { encoding: 'utf8' }).trim());
    expect(facts.kernelRelease).toBe(os.release());
    expect(facts.cpus).toBe(Number(execFileSync('nproc', { encoding: 'utf8' }).trim()));
    expect(facts.memoryMiB).toBe(Math.floor(os.totalmem() / 1024 / 1024));
    expect(facts.cgroupFs).toBe(execFileSync('stat', ['-fc', '%T', '/sys/fs/cgroup'], { encoding: 'utf8' }).trim());
    expect(facts.binaries.mount).toMatch(/\/mount$/);
    // Where `command -v` finds each binary along the script's PATH.
    const found = execFileSync('sh', ['-c', 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin; for b in "$@"; do p=$(command -v "$b" || true); case "$p" in /*) echo "$b=$p" ;; esac; done', 'sh', ...PROBED_BINARIES], { encoding: 'utf8' });
    expect(Object.entries(facts.binaries).map(([b, p]) => `${b}=${p}`)).toEqual(found.split('\n').filter(Boolean));
    const swaps = execFileSync('sh', ['-c', "awk 'NR > 1' /proc/swaps | wc -l"], { encoding: 'utf8' }).trim();
    expect(facts.swapDevices).toBe(Number(swaps));
    const listening = execFileSync('sh', ['-c', `cat /proc/net/tcp /proc/net/tcp6 2>/dev/null | awk '$4 == "0A" { split($2, a, ":"); print a[2] }' | sort -u`], { encoding: 'utf8' })
      .split('\n')
      .filter(Boolean)
      .map((h) => parseInt(h, 16));
    expect([...facts.listeningPorts].sort((a, b) => a - b)).toEqual([...new Set(listening)].sort((a, b) => a - b));
  });
});
