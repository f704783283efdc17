import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DigestCache } from './digest-cache.js';
import * as hashing from './hash-file.js';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kf-digests-'));
});
afterEach(() => {
  vi.restoreAllMocks();
  fs.rmSync(dir, { recursive: true, force: true });
});

const sha = (text: string) => createHash('sha256').update(text).digest('hex');
const isStrings = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string');

describe('DigestCache', () => {
  it('hashes a file once across runs, and again once it was written, even to the same size and mtime', async () => {
    const file = path.join(dir, 'bundle.tar');
    fs.writeFileSync(file, 'abc');
    const store = path.join(dir, 'cache', 'digests.json');
    const spy = vi.spyOn(hashing, 'hashFile');

    const first = new DigestCache(store);
    expect(await first.hash(file)).toEqual({ sha256: sha('abc'), size: 3 });
    await first.save();
    expect(fs.statSync(store).mode & 0o777).toBe(0o600);

    const second = new DigestCache(store);
    expect(await second.hash(file)).toEqual({ sha256: sha('abc'), size: 3 });
    expect(spy).toHaveBeenCalledTimes(1);

    // Same size, mtime put back: the ctime still says it was written.
    const { atime, mtime } = fs.statSync(file);
    fs.writeFileSync(file, 'xyz');
    fs.utimesSync(file, atime, mtime);
    expect(await new DigestCache(store).hash(file)).toEqual({ sha256: sha('xyz'), size: 3 });
    expect(spy).toHaveBeenCalledTimes(2);
  });

  it('reads a file again that was replaced by another (a new inode)', async () => {
    const file = path.join(dir, 'b');
    fs.writeFileSync(file, 'one');
    const store = path.join(dir, 'digests.json');
    const cache = new DigestCache(store);
    await cache.hash(file);
    await cache.save();
    fs.writeFileSync(`${file}.new`, 'two');
    fs.renameSync(`${file}.new`, file);
    expect((await new DigestCache(store).hash(file)).sha256).toBe(sha('two'));
  });

  it('says what hashFile says for a missing file, and treats an unreadable cache as empty', async () => {
    const store = path.join(dir, 'digests.json');
    fs.writeFileSync(store, '{ not json');
    const cache = new DigestCache(store);
    await expect(cache.hash(path.join(dir, 'missing'))).rejects.toThrow(/ENOENT/);
    fs.writeFileSync(path.join(dir, 'f'), 'f');
    expect((await cache.hash(path.join(dir, 'f'))).sha256).toBe(sha('f'));
    await cache.save();
    expect(JSON.parse(fs.readFileSync(store, 'utf8')).files[path.join(dir, 'f')].sha256).toBe(sha('f'));
  });

  it('reads what is in a content once, by its sha256, but not a failure or an edited value', async () => {
    const store = path.join(dir, 'digests.json');
    const cache = new DigestCache(store);
    const read = vi.fn(async () => ['docker.io/library/busybox:1']);
    expect(await cache.fromContent('a'.repeat(64), 'image-refs/1', isStrings, read)).toEqual(['docker.io/library/busybox:1']);
    await cache.save();
    const again = new DigestCache(store);
    expect(await again.fromContent('a'.repeat(64), 'image-refs/1', isStrings, read)).toEqual(['docker.io/library/busybox:1']);
    expect(read).toHaveBeenCalledTimes(1);
    await expect(again.fromContent('b'.repeat(64), 'image-refs/1', isStrings, async () => Promise.reject(new Error('bad archive')))).rejects.toThrow('bad archive');
    await expect(again.fromContent('b'.repeat(64), 'image-refs/1', isStrings, async () => ['x'])).resolves.toEqual(['x']);

    const edited = JSON.parse(fs.readFileSync(store, 'utf8'));
    edited.derived[`${'a'.repeat(64)} image-refs/1`] = 42;
    fs.writeFileSync(store, JSON.stringify(edited));
    expect(await new DigestCache(store).fromContent('a'.repeat(64), 'image-refs/1', isStrings, read)).toEqual(['docker.io/library/busybox:1']);
    expect(read).toHaveBeenCalledTimes(2);
  });
});
