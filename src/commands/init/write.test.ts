import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InputError, InterruptedError } from '../../errors.js';
import { writeInventoryFile } from './write.js';

describe('writeInventoryFile', () => {
  let dir: string;
  let file: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kf-write-'));
    file = join(dir, 'inventory.yaml');
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('validates a temporary file beside the target, then gives it the name', async () => {
    let validated = '';
    await writeInventoryFile(file, 'cluster: {name: a}\n', {
      overwrite: false,
      validate: async (temp) => {
        expect(temp.startsWith(join(dir, '.inventory.yaml.kubeforge-init-'))).toBe(true);
        validated = await readFile(temp, 'utf8');
      },
    });
    expect(validated).toBe('cluster: {name: a}\n');
    expect(await readFile(file, 'utf8')).toBe('cluster: {name: a}\n');
    expect(await readdir(dir)).toEqual(['inventory.yaml']);
  });

  it('leaves nothing when validation fails', async () => {
    const attempt = writeInventoryFile(file, 'x: 1\n', { overwrite: false, validate: async () => Promise.reject(new Error('not an inventory')) });
    await expect(attempt).rejects.toThrow('not an inventory');
    expect(await readdir(dir)).toEqual([]);
  });

  it('leaves nothing when interrupted while validating', async () => {
    const controller = new AbortController();
    const attempt = writeInventoryFile(file, 'x: 1\n', {
      overwrite: false,
      signal: controller.signal,
      // A validation that would never finish (hashing a huge bundle, say) until Ctrl-C.
      validate: async () => {
        expect((await readdir(dir)).length).toBe(1);
        controller.abort();
        await new Promise(() => {});
      },
    });
    await expect(attempt).rejects.toThrow(InterruptedError);
    expect(await readdir(dir)).toEqual([]);
  });

  it('never replaces a file that appeared meanwhile unless allowed', async () => {
    const attempt = writeInventoryFile(file, 'new\n', {
      overwrite: false,
      validate: async () => writeFile(file, 'someone else\n'),
    });
    await expect(attempt).rejects.toThrow(InputError);
    await expect(attempt).rejects.toThrow(/exists \(it was created while kubeforge init ran\)/);
    expect(await readFile(file, 'utf8')).toBe('someone else\n');
    expect(await readdir(dir)).toEqual(['inventory.yaml']);

    await writeInventoryFile(file, 'new\n', { overwrite: true, validate: async () => {} });
    expect(await readFile(file, 'utf8')).toBe('new\n');
  });
});
