// The relay's scripts, run here with sh against a scratch home: the authorized_keys line and its
// removal, and the sweep that keeps one run's traces and drops every other's.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { authorizedOptions, hostKeyAlgorithms, sendEnv, transferPaths } from './scripts.js';

describe('relay scripts', () => {
  it('binds the key to the source addresses and one forced write', () => {
    expect(authorizedOptions(['10.0.0.2', 'fd00::2'], '/var/lib/kubeforge/bundles/.x.kubeforge-relay-ab-cd.tmp')).toBe(
      'from="10.0.0.2,fd00::2",restrict,command="umask 077 && exec dd of=/var/lib/kubeforge/bundles/.x.kubeforge-relay-ab-cd.tmp bs=1M status=none"',
    );
  });

  it('refuses anything that could break out of the options', () => {
    expect(() => authorizedOptions(['10.0.0.2",command="sh'], '/x')).toThrow(/not an IP/);
    expect(() => authorizedOptions(['10.0.0.2'], '/x" y')).toThrow(/unsafe/);
    expect(() => authorizedOptions(['host.example'], '/x')).toThrow(/not an IP/);
  });

  it('stages beside the destination for root, in a private directory otherwise', () => {
    const dest = '/var/lib/kubeforge/bundles/0123456789abcdef-containerd.tar.gz';
    const root = transferPaths({ runId: 'r1', transferId: 't1', dest, targetLoginIsRoot: true });
    expect(root).toEqual({ staged: root.temp, temp: '/var/lib/kubeforge/bundles/.0123456789abcdef-containerd.tar.gz.kubeforge-relay-r1-t1.tmp', mark: 'kubeforge-relay:r1:t1' });
    const user = transferPaths({ runId: 'r1', transferId: 't1', dest, targetLoginIsRoot: false });
    expect(user.stageDir).toBe('/var/tmp/kubeforge-relay-r1');
    expect(user.staged).toBe('/var/tmp/kubeforge-relay-r1/t1');
    expect(user.temp).toBe(root.temp);
  });

  it('pins the host key under an alias, for the default and a custom port', () => {
    const env = sendEnv({ runId: 'r', transferId: 't', source: '/b', size: 5, target: { address: '10.0.0.3', port: 2222, user: 'root', keyType: 'ssh-ed25519', keyBlob: Buffer.from('key') } });
    expect(env.KF_KNOWN_HOSTS).toBe('kubeforge-peer ssh-ed25519 a2V5\n[kubeforge-peer]:2222 ssh-ed25519 a2V5');
    expect(hostKeyAlgorithms('ssh-rsa')).toBe('rsa-sha2-512,rsa-sha2-256,ssh-rsa');
    expect(hostKeyAlgorithms('ecdsa-sha2-nistp256')).toBe('ecdsa-sha2-nistp256');
  });
});

// The authorized_keys edits, run by sh on a copy of the scripts with $home pointed at a scratch dir.
describe('relay scripts on a real shell', () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  /** Runs `script` with getent replaced by a function that answers the scratch home. */
  function sh(script: string, env: Record<string, string>): string {
    dir ??= fs.mkdtempSync(path.join(os.tmpdir(), 'kf-relay-sh-'));
    const user = os.userInfo().username;
    const prelude = `getent() { printf '%s:x:0:0::%s:/bin/sh\\n' "${user}" "${dir}"; }\n`;
    // The lock file goes into the scratch dir too, never into this machine's /var/lib.
    return execFileSync('sh', ['-eu', '-c', prelude + script], { env: { ...process.env, KF_USER: user, ...env, KF_AK_LOCK: path.join(dir, 'ak.lock') }, encoding: 'utf8' });
  }

  it('authorize adds one line with an expiry; finish removes exactly that line', async () => {
    const { authorizeScript, authorizeEnv, finishScript, finishEnv } = await import('./scripts.js');
    const ak = () => fs.readFileSync(path.join(dir!, '.ssh', 'authorized_keys'), 'utf8');
    dir ??= fs.mkdtempSync(path.join(os.tmpdir(), 'kf-relay-sh-'));
    fs.mkdirSync(path.join(dir!, '.ssh'), { recursive: true });
    fs.writeFileSync(path.join(dir!, '.ssh', 'authorized_keys'), 'ssh-ed25519 AAAAuser operator@laptop', { mode: 0o600 });
    const env = authorizeEnv({ user: os.userInfo().username, options: 'from="10.0.0.2",restrict,command="true"', publicKey: 'ssh-ed25519 AAAAx kubeforge-relay:r1:t1' });
    sh(authorizeScript, { ...env, KF_RELAY_LINES: path.join(dir!, 'relay-authorized') });
    expect(fs.existsSync(path.join(dir!, 'relay-authorized'))).toBe(true);
    const lines = ak().split('\n').filter(Boolean);
    expect(lines[0]).toBe('ssh-ed25519 AAAAuser operator@laptop');
    expect(lines[1]).toMatch(/^from="10\.0\.0\.2",restrict,command="true",expiry-time="\d{12}" ssh-ed25519 AAAAx kubeforge-relay:r1:t1$/);
    sh(finishScript, finishEnv({ user: os.userInfo().username, mark: 'kubeforge-relay:r1:t1', staged: '/nonexistent', temp: '/nonexistent', dest: '/nonexistent', sha256: '0', keep: false }));
    expect(ak()).toBe('ssh-ed25519 AAAAuser operator@laptop\n');
    expect((fs.statSync(path.join(dir!, '.ssh', 'authorized_keys')).mode & 0o777).toString(8)).toBe('600');
  });

  it.each(['flock', 'a lock directory (no flock on the host)'])('a line added while another is dropped is never lost (the updates take turns with %s)', async (mode) => {
    // Several bundles relay to one host at once: one transfer's finish rewrites authorized_keys
    // while the next one's authorize appends to it. Without a lock the rewrite can drop the
    // fresh line, and that relay fails with "Permission denied (publickey)".
    const { authorizeScript, authorizeEnv, finishScript, finishEnv } = await import('./scripts.js');
    const { spawn } = await import('node:child_process');
    dir ??= fs.mkdtempSync(path.join(os.tmpdir(), 'kf-relay-sh-'));
    const home = dir;
    const user = os.userInfo().username;
    fs.mkdirSync(path.join(home, '.ssh'), { recursive: true });
    const file = path.join(home, '.ssh', 'authorized_keys');
    fs.writeFileSync(file, 'ssh-ed25519 AAAAuser me\n', { mode: 0o600 });
    const prelude = `getent() { printf '%s:x:0:0::%s:/bin/sh\\n' "${user}" "${home}"; }\n`;
    const local: Record<string, string> = { KF_RELAY_LINES: path.join(home, 'relay-authorized'), KF_AK_LOCK: path.join(home, 'ak.lock') };
    if (mode !== 'flock') {
      // A PATH with every command of this machine but flock.
      const bin = path.join(home, 'bin');
      fs.mkdirSync(bin);
      for (const d of ['/usr/local/bin', '/usr/bin', '/bin']) {
        for (const name of fs.existsSync(d) ? fs.readdirSync(d) : []) {
          if (name !== 'flock' && !fs.existsSync(path.join(bin, name))) fs.symlinkSync(path.join(d, name), path.join(bin, name));
        }
      }
      local.PATH = bin;
    }
    const shAsync = (script: string, env: Record<string, string>) =>
      new Promise<void>((resolve, reject) => {
        const p = spawn('sh', ['-eu', '-c', prelude + script], { env: { ...process.env, KF_USER: user, ...env, ...local }, stdio: ['ignore', 'ignore', 'inherit'] });
        p.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`sh exited ${code}`))));
      });
    const authorize = (t: number) => shAsync(authorizeScript, authorizeEnv({ user, options: 'restrict', publicKey: `ssh-ed25519 AAAA${t} kubeforge-relay:r1:t${t}` }));
    const finish = (t: number) => shAsync(finishScript, finishEnv({ user, mark: `kubeforge-relay:r1:t${t}`, staged: '/nonexistent', temp: '/nonexistent', dest: '/nonexistent', sha256: '0', keep: false }));
    await authorize(0);
    for (let t = 1; t <= 40; t++) {
      await Promise.all([authorize(t), finish(t - 1)]);
      const marks = fs.readFileSync(file, 'utf8').match(/kubeforge-relay:r1:t\d+/g) ?? [];
      expect(marks, `round ${t}`).toEqual([`kubeforge-relay:r1:t${t}`]);
    }
    expect(fs.readFileSync(file, 'utf8').startsWith('ssh-ed25519 AAAAuser me\n')).toBe(true);
  });

  it("the sweep drops other runs' lines and keeps this run's and the user's own", async () => {
    const { sweepScript, sweepEnv } = await import('./scripts.js');
    dir ??= fs.mkdtempSync(path.join(os.tmpdir(), 'kf-relay-sh-'));
    fs.mkdirSync(path.join(dir, '.ssh'), { recursive: true });
    const file = path.join(dir, '.ssh', 'authorized_keys');
    fs.writeFileSync(file, ['ssh-ed25519 AAAAuser me', 'restrict ssh-ed25519 AAAAold kubeforge-relay:r1:t1', 'restrict ssh-ed25519 AAAAnow kubeforge-relay:r2:t9', 'ssh-rsa AAAAother you'].join('\n'), { mode: 0o640 });
    // The directories a host keeps relay traces in, here inside the scratch dir.
    const scratch = (keep: string | undefined) => ({ ...sweepEnv(os.userInfo().username, keep), KF_RELAY_KEYS: path.join(dir!, 'keys'), KF_RELAY_STAGE: path.join(dir!, 'stage-'), KF_RELAY_BUNDLES: path.join(dir!, 'bundles'), KF_RELAY_LINES: path.join(dir!, 'relay-authorized') });
    fs.writeFileSync(path.join(dir, 'relay-authorized'), '');
    fs.mkdirSync(path.join(dir, 'keys', 'r1'), { recursive: true });
    fs.mkdirSync(path.join(dir, 'keys', 'r2'), { recursive: true });
    fs.mkdirSync(path.join(dir, 'stage-r1'));
    fs.mkdirSync(path.join(dir, 'bundles'));
    fs.writeFileSync(path.join(dir, 'bundles', '.b.kubeforge-relay-r1-t1.tmp'), 'partial');
    fs.writeFileSync(path.join(dir, 'bundles', '.b.kubeforge-relay-r2-t9.tmp'), 'in flight');
    fs.writeFileSync(path.join(dir, 'bundles', 'b'), 'whole');
    sh(sweepScript, scratch('r2'));
    expect(fs.readdirSync(path.join(dir, 'keys'))).toEqual(['r2']);
    expect(fs.existsSync(path.join(dir, 'stage-r1'))).toBe(false);
    expect(fs.readdirSync(path.join(dir, 'bundles')).sort()).toEqual(['.b.kubeforge-relay-r2-t9.tmp', 'b']);
    expect(fs.readFileSync(file, 'utf8')).toBe('ssh-ed25519 AAAAuser me\nrestrict ssh-ed25519 AAAAnow kubeforge-relay:r2:t9\nssh-rsa AAAAother you\n');
    expect((fs.statSync(file).mode & 0o777).toString(8)).toBe('640');
    sh(sweepScript, scratch(undefined));
    expect(fs.readFileSync(file, 'utf8')).toBe('ssh-ed25519 AAAAuser me\nssh-rsa AAAAother you\n');
    expect(fs.existsSync(path.join(dir, 'keys'))).toBe(false);
    // No relay line left: the marker goes, and the next sweep does not look at the file.
    expect(fs.existsSync(path.join(dir, 'relay-authorized'))).toBe(false);
    expect(fs.readdirSync(path.join(dir, 'bundles'))).toEqual(['b']);
  });

  it("stops a writer left by a broken transfer of another run, and spares this run's", async () => {
    const { sweepScript, sweepEnv } = await import('./scripts.js');
    const { spawn } = await import('node:child_process');
    dir ??= fs.mkdtempSync(path.join(os.tmpdir(), 'kf-relay-sh-'));
    // Writers as sshd's forced command runs them, their stdin a pipe nobody ever closes.
    fs.mkdirSync(path.join(dir, 'bundles'));
    const writer = (name: string) => spawn('dd', [`of=${path.join(dir!, 'bundles', name)}`, 'bs=1M', 'status=none'], { stdio: ['pipe', 'ignore', 'ignore'] });
    const stale = writer('.b.kubeforge-relay-r1-t1.tmp');
    const current = writer('.b.kubeforge-relay-r2-t2.tmp');
    const exited = (p: ReturnType<typeof spawn>) => new Promise<string | null>((r) => p.once('exit', (_c, sig) => r(sig)));
    const staleExit = exited(stale);
    try {
      await new Promise((r) => setTimeout(r, 200));
      sh(sweepScript, { ...sweepEnv(os.userInfo().username, 'r2'), KF_RELAY_KEYS: path.join(dir, 'keys'), KF_RELAY_STAGE: path.join(dir, 'stage-'), KF_RELAY_BUNDLES: path.join(dir, 'bundles'), KF_RELAY_LINES: path.join(dir, 'relay-authorized') });
      expect(await staleExit).toBe('SIGKILL');
      expect(current.exitCode).toBeNull();
      expect(current.signalCode).toBeNull();
    } finally {
      stale.kill('SIGKILL');
      current.kill('SIGKILL');
    }
  });
});
