import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { backupPath, kubeconfigTarget, readKubeconfig, replaceKubeconfig, resolveTarget } from './target.js';

describe('kubeconfigTarget', () => {
  it('is the first path of $KUBECONFIG, else ~/.kube/config', () => {
    expect(kubeconfigTarget({ KUBECONFIG: '/a/one:/b/two' }, '/home/u')).toBe('/a/one');
    expect(kubeconfigTarget({ KUBECONFIG: '::/b/two' }, '/home/u')).toBe('/b/two');
    expect(kubeconfigTarget({ KUBECONFIG: '' }, '/home/u')).toBe('/home/u/.kube/config');
    expect(kubeconfigTarget({}, '/home/u')).toBe('/home/u/.kube/config');
  });
});

describe('replaceKubeconfig', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'kf-kubeconfig-'));
  });
  afterEach(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('makes a missing ~/.kube 0700 and writes the file 0600, with no backup when there was no file', async () => {
    const file = path.join(dir, 'home', '.kube', 'config');
    expect(await readKubeconfig(file)).toBeUndefined();
    expect(await replaceKubeconfig(file, 'new\n', undefined)).toEqual({});
    expect(((await fs.stat(path.dirname(file))).mode & 0o777)).toBe(0o700);
    expect(((await fs.stat(file)).mode & 0o777)).toBe(0o600);
    expect(await fs.readFile(file, 'utf8')).toBe('new\n');
    await expect(fs.stat(backupPath(file))).rejects.toThrow(/ENOENT/);
  });

  it('keeps the previous content as FILE.kubeforge-backup (0600) and tightens a 0644 file to 0600', async () => {
    const file = path.join(dir, 'config');
    await fs.writeFile(file, 'old\n', { mode: 0o644 });
    const { backup } = await replaceKubeconfig(file, 'new\n', 'old\n');
    expect(backup).toBe(path.join(dir, 'config.kubeforge-backup'));
    expect(await fs.readFile(backup!, 'utf8')).toBe('old\n');
    expect(((await fs.stat(backup!)).mode & 0o777)).toBe(0o600);
    expect(((await fs.stat(file)).mode & 0o777)).toBe(0o600);
    expect(await fs.readFile(file, 'utf8')).toBe('new\n');
    // No temporary file is left behind.
    expect((await fs.readdir(dir)).sort()).toEqual(['config', 'config.kubeforge-backup']);
  });

  it('writes through a symlinked config to its target, keeping the link', async () => {
    const real = path.join(dir, 'dotfiles-kubeconfig');
    const link = path.join(dir, 'config');
    await fs.writeFile(real, 'old\n');
    await fs.symlink(real, link);
    const file = await resolveTarget(link);
    expect(file).toBe(await fs.realpath(real));
    await replaceKubeconfig(file, 'new\n', 'old\n');
    expect((await fs.lstat(link)).isSymbolicLink()).toBe(true);
    expect(await fs.readFile(link, 'utf8')).toBe('new\n');
  });

  it('refuses a directory where the file should be', async () => {
    await expect(readKubeconfig(dir)).rejects.toThrow(/is a directory/);
  });
});
