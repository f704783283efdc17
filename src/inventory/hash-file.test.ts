import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { hashFile } from './hash-file.js';

const dir = mkdtempSync(join(tmpdir(), 'kubeforge-hash-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('hashFile', () => {
  it('returns the SHA-256 and size of the content', async () => {
    const path = join(dir, 'abc');
    writeFileSync(path, 'abc');
    expect(await hashFile(path)).toEqual({ sha256: 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad', size: 3 });
  });

  it('hashes files larger than one read chunk', async () => {
    const content = Buffer.alloc(3 * 1024 * 1024 + 7, 0x5a);
    const path = join(dir, 'big');
    writeFileSync(path, content);
    expect(await hashFile(path)).toEqual({ sha256: createHash('sha256').update(content).digest('hex'), size: content.length });
  });

  it('rejects a missing file', async () => {
    await expect(hashFile(join(dir, 'missing'))).rejects.toThrow(/ENOENT/);
  });
});
