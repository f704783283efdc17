import { createHash, randomBytes } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile as writeLocal } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { installFakeSudo, type FakeSudo } from '../../test/support/fake-sudo.js';
import { describeWithSshd, exists, sshSettings, sshTarget, startSshd, type TestSshd } from '../../test/support/sshd.js';
import { connect } from './connect.js';
import type { Connection } from './connection.js';
import { AbortError, UploadError } from './errors.js';
import { upload, writeFile } from './upload.js';

interface LocalFile {
  path: string;
  sha256: string;
  size: number;
}

async function makeLocalFile(dir: string, name: string, size: number): Promise<LocalFile> {
  const content = randomBytes(size);
  const path = join(dir, name);
  await writeLocal(path, content);
  return { path, size, sha256: createHash('sha256').update(content).digest('hex') };
}

async function sha256Of(path: string): Promise<string> {
  return createHash('sha256').update(await readFile(path)).digest('hex');
}

async function modeOf(path: string): Promise<number> {
  return (await stat(path)).mode & 0o7777;
}

/** Leftover temporary files of ours in a directory. */
async function tempFiles(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((name) => name.includes('.kubeforge-'));
}

async function stagingDirs(): Promise<string[]> {
  return (await readdir(tmpdir())).filter((name) => name.startsWith('kubeforge-upload.'));
}

describeWithSshd('upload and writeFile as root (real sshd)', () => {
  let sshd: TestSshd;
  let conn: Connection;
  let local: string;
  let big: LocalFile;

  beforeAll(async () => {
    sshd = await startSshd();
    conn = await connect(sshTarget(sshd, 'node-1'), sshSettings(sshd));
    local = join(sshd.dir, 'local');
    await mkdir(local);
    big = await makeLocalFile(local, 'bundle.tar.gz', 20 * 1024 * 1024);
  });
  afterAll(async () => {
    conn?.close();
    await sshd?.stop();
  });

  it('grows the staged copy in file order while it arrives (a peer streams it on), and says where', async () => {
    const dest = join(sshd.dir, 'work', 'opt', 'in-order', 'bundle.tar.gz');
    const content = await readFile(big.path);
    let staging: string | undefined;
    let checks = 0;
    const mismatches: string[] = [];
    await upload(conn, big.path, dest, {
      sha256: big.sha256,
      size: big.size,
      onStaging: (path) => (staging = path),
      onProgress: () => {
        // What a reader sees now is a prefix of the file: no hole a later write filled first.
        if (!staging || checks++ % 20 !== 0) return;
        const seen = readFileSync(staging);
        if (!seen.equals(content.subarray(0, seen.length))) mismatches.push(`at ${seen.length} bytes`);
      },
    });
    expect(staging).toMatch(/\/in-order\/\.bundle\.tar\.gz\.kubeforge-/);
    expect(checks).toBeGreaterThan(100);
    expect(mismatches).toEqual([]);
    expect(await sha256Of(dest)).toBe(big.sha256);
  });

  it('streams a 20 MB file into a new directory, reporting progress, then skips it when unchanged', async () => {
    const dest = join(sshd.dir, 'work', 'opt', 'bundles', 'bundle.tar.gz');
    const progress: Array<[number, number]> = [];
    const outcome = await upload(conn, big.path, dest, {
      sha256: big.sha256,
      size: big.size,
      onProgress: (sent, total) => progress.push([sent, total]),
    });
    expect(outcome).toBe('uploaded');
    expect(await sha256Of(dest)).toBe(big.sha256);
    expect(await modeOf(dest)).toBe(0o644);
    expect(await tempFiles(join(sshd.dir, 'work', 'opt', 'bundles'))).toEqual([]);

    // many steps, growing, ending at the full size
    expect(progress.length).toBeGreaterThan(100);
    expect(progress.every(([, total]) => total === big.size)).toBe(true);
    expect(progress.every(([sent], i) => i === 0 || sent > progress[i - 1]![0])).toBe(true);
    expect(progress.at(-1)).toEqual([big.size, big.size]);

    const again: number[] = [];
    const second = await upload(conn, big.path, dest, {
      sha256: big.sha256,
      size: big.size,
      onProgress: (sent) => again.push(sent),
    });
    expect(second).toBe('unchanged');
    expect(again).toEqual([]);
  });

  it('fixes only the mode when the content is already there', async () => {
    const small = await makeLocalFile(local, 'small.bin', 1000);
    const dest = join(sshd.dir, 'work', 'mode-fix', 'small.bin');
    await upload(conn, small.path, dest, { sha256: small.sha256, size: small.size, mode: 0o644 });
    expect(await upload(conn, small.path, dest, { sha256: small.sha256, size: small.size, mode: 0o750 })).toBe(
      'unchanged',
    );
    expect(await modeOf(dest)).toBe(0o750);
  });

  it('replaces a file with other content', async () => {
    const dest = join(sshd.dir, 'work', 'replace', 'file.bin');
    await mkdir(join(sshd.dir, 'work', 'replace'));
    await writeLocal(dest, 'old content');
    const next = await makeLocalFile(local, 'next.bin', 70_000);
    expect(await upload(conn, next.path, dest, { sha256: next.sha256, size: next.size, mode: 0o600 })).toBe('uploaded');
    expect(await sha256Of(dest)).toBe(next.sha256);
    expect(await modeOf(dest)).toBe(0o600);
  });

  it('refuses a transfer whose hash does not match, leaving the old file and no temp file', async () => {
    const dir = join(sshd.dir, 'work', 'mismatch');
    const dest = join(dir, 'file.bin');
    await mkdir(dir);
    await writeLocal(dest, 'old content');
    const file = await makeLocalFile(local, 'mismatch.bin', 5000);
    const wrongSha = 'ab'.repeat(32);
    const attempt = upload(conn, file.path, dest, { sha256: wrongSha, size: file.size });
    await expect(attempt).rejects.toThrow(UploadError);
    await expect(attempt).rejects.toThrow(new RegExp(`^node-1: ${dest} arrived with sha256 ${file.sha256}, expected ${wrongSha}`));
    expect(await readFile(dest, 'utf8')).toBe('old content');
    expect(await tempFiles(dir)).toEqual([]);
  });

  it('leaves neither the file nor a temp file when aborted mid-transfer', async () => {
    const dir = join(sshd.dir, 'work', 'aborted');
    const dest = join(dir, 'bundle.tar.gz');
    const controller = new AbortController();
    let sentWhenAborted = 0;
    const attempt = upload(conn, big.path, dest, {
      sha256: big.sha256,
      size: big.size,
      signal: controller.signal,
      onProgress: (sent) => {
        if (sent > 2 * 1024 * 1024 && !controller.signal.aborted) {
          sentWhenAborted = sent;
          controller.abort();
        }
      },
    });
    await expect(attempt).rejects.toThrow(AbortError);
    expect(sentWhenAborted).toBeGreaterThan(0);
    expect(sentWhenAborted).toBeLessThan(big.size);
    expect(await exists(dest)).toBe(false);
    expect(await tempFiles(dir)).toEqual([]);
    // the connection is still usable afterwards
    expect((await conn.exec('echo ok')).stdout).toBe('ok\n');
  });

  it('writeFile creates a 0600 secret, exactly, and rewrites only on change', async () => {
    const dir = join(sshd.dir, 'work', 'etc', 'kubeforge');
    const dest = join(dir, 'secret.conf');
    const content = `token: "it's $(secret)"\n\u0000\u00ff binary-ish\n`;
    expect(await writeFile(conn, dest, content, { mode: 0o600 })).toBe('written');
    expect(await readFile(dest, 'utf8')).toBe(content);
    expect(await modeOf(dest)).toBe(0o600);
    expect(await modeOf(dir)).toBe(0o755);
    expect(await tempFiles(dir)).toEqual([]);

    expect(await writeFile(conn, dest, content, { mode: 0o600 })).toBe('unchanged');
    expect(await writeFile(conn, dest, Buffer.from('new\n'), { mode: 0o640 })).toBe('written');
    expect(await readFile(dest, 'utf8')).toBe('new\n');
    expect(await modeOf(dest)).toBe(0o640);
  });

  it('writeFile fails cleanly when the directory cannot be made', async () => {
    const blocker = join(sshd.dir, 'work', 'blocker');
    await writeLocal(blocker, 'a file, not a directory');
    await expect(writeFile(conn, join(blocker, 'x.conf'), 'x', { mode: 0o644 })).rejects.toThrow(
      /^node-1: could not put .*x\.conf in place \(exit 1\)/,
    );
  });

  it('refuses relative remote paths', async () => {
    await expect(writeFile(conn, 'etc/x.conf', 'x', { mode: 0o644 })).rejects.toThrow(/absolute/);
  });
});

describeWithSshd('upload and writeFile as a user who needs sudo (real sshd, stand-in sudo)', () => {
  let dir: string;
  let fake: FakeSudo;
  let sshd: TestSshd;
  let conn: Connection;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kubeforge-fake-sudo-'));
    fake = await installFakeSudo(dir);
    await fake.requirePassword('pw');
    sshd = await startSshd({ extraPath: fake.binDir });
    conn = await connect(sshTarget(sshd, 'node-2'), sshSettings(sshd, { sudoPassword: 'pw' }), { probeUid: true });
  });
  afterAll(async () => {
    conn?.close();
    await sshd?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('stages the upload privately, installs it through sudo and cleans up', async () => {
    expect(conn.isRoot).toBe(false);
    const before = await stagingDirs();
    const file = await makeLocalFile(dir, 'payload.bin', 3 * 1024 * 1024);
    const destDir = join(sshd.dir, 'work', 'usr', 'local', 'bin');
    const dest = join(destDir, 'payload');
    expect(await upload(conn, file.path, dest, { sha256: file.sha256, size: file.size, mode: 0o755 })).toBe('uploaded');
    expect(await sha256Of(dest)).toBe(file.sha256);
    expect(await modeOf(dest)).toBe(0o755);
    expect(await tempFiles(destDir)).toEqual([]);
    expect(await stagingDirs()).toEqual(before);
    expect(await fake.log()).toMatch(/mv -f --/);
    expect(await upload(conn, file.path, dest, { sha256: file.sha256, size: file.size, mode: 0o755 })).toBe(
      'unchanged',
    );
  });

  it('cleans up the staging directory when the upload is aborted', async () => {
    const before = await stagingDirs();
    const file = await makeLocalFile(dir, 'abort.bin', 8 * 1024 * 1024);
    const dest = join(sshd.dir, 'work', 'abort-sudo', 'abort.bin');
    const controller = new AbortController();
    const attempt = upload(conn, file.path, dest, {
      sha256: file.sha256,
      size: file.size,
      signal: controller.signal,
      onProgress: (sent) => {
        if (sent > 1024 * 1024) controller.abort();
      },
    });
    await expect(attempt).rejects.toThrow(AbortError);
    expect(await exists(dest)).toBe(false);
    expect(await stagingDirs()).toEqual(before);
  });

  it('writes a secret through sudo with its stdin', async () => {
    const dest = join(sshd.dir, 'work', 'secrets', 'join-token');
    expect(await writeFile(conn, dest, 'abcdef.0123456789abcdef\n', { mode: 0o600 })).toBe('written');
    expect(await readFile(dest, 'utf8')).toBe('abcdef.0123456789abcdef\n');
    expect(await modeOf(dest)).toBe(0o600);
    await chmod(dest, 0o644);
    expect(await writeFile(conn, dest, 'abcdef.0123456789abcdef\n', { mode: 0o600 })).toBe('written');
    expect(await modeOf(dest)).toBe(0o600);
  });
});
