// Whatever the inventory holds, what comes back to the user is short: values are quoted by their
// start and length, lists of problems are capped, huge and endless files are refused unread.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatError, InputErrors } from '../errors.js';
import { makeInventoryFixture, type InventoryFixture } from '../../test/inventories/fixtures.js';
import { loadInventory, MAX_INVENTORY_BYTES, MAX_REPORTED_PROBLEMS } from './index.js';
import { clip, formatPath, quote, showPath, showValue } from './problem.js';
import { didYouMean } from './suggest.js';

const GOOD = `cluster:
  name: demo
kubernetes:
  version: 1.30.2
containerd:
  bundle: bundles/containerd-1.7.20-linux-amd64.tar.gz
ssh:
  keyFile: keys/id_ed25519
hosts:
  - name: cp1
    address: 10.0.0.10
    role: control-plane
`;

const FIVE_MB = 5 * 1024 * 1024;

let fixture: InventoryFixture;
beforeAll(() => {
  fixture = makeInventoryFixture();
});
afterAll(() => fixture.remove());

function write(text: string | Buffer): string {
  const path = join(fixture.dir, 'inventory.yaml');
  writeFileSync(path, text);
  return path;
}

async function failure(path: string): Promise<InputErrors> {
  const error = await loadInventory(path, { env: fixture.env }).then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof InputErrors)) throw new Error(`expected InputErrors, got ${String(error)}`);
  return error;
}

describe('values quoted back', () => {
  it('are cut after 80 characters, with an ellipsis and their full length', () => {
    expect(quote('a'.repeat(FIVE_MB))).toBe(`"${'a'.repeat(80)}…" (${FIVE_MB} characters)`);
    expect(showValue('a'.repeat(81))).toBe(`"${'a'.repeat(80)}…" (81 characters)`);
    expect(showValue('a'.repeat(80))).toBe(`"${'a'.repeat(80)}"`);
    expect(clip('b'.repeat(100))).toBe(`${'b'.repeat(80)}… (100 characters)`);
    expect(showPath(`/${'d/'.repeat(300)}`)).toMatch(/^\/(d\/){99}d… \(601 characters\)$/);
  });

  it('never split a character made of two UTF-16 units', () => {
    const emoji = `${'a'.repeat(79)}😀😀`;
    expect(quote(emoji)).toBe(`"${'a'.repeat(79)}…" (83 characters)`);
  });

  it('are cut in paths too, where a key can be as long as a value', () => {
    expect(formatPath(['containerd', 'registryMirrors', 'r'.repeat(1000)])).toBe(
      `containerd.registryMirrors["${'r'.repeat(80)}…" (1000 characters)]`,
    );
  });

  it('are not compared letter by letter for "did you mean" when their length alone rules them out', () => {
    const started = Date.now();
    expect(didYouMean('w'.repeat(FIVE_MB), ['control-plane', 'worker'])).toBeUndefined();
    expect(Date.now() - started).toBeLessThan(500);
  });
});

describe('loadInventory output bounds', () => {
  it('reports a 5 MB cluster name in under 1 KB, still at FILE:LINE:COL', async () => {
    const path = write(GOOD.replace('name: demo', `name: ${'a'.repeat(FIVE_MB)}`));
    const error = await failure(path);
    const text = formatError(error);
    expect(text.length).toBeLessThan(1024);
    expect(text).toContain(`${path}:2:9: cluster.name: "${'a'.repeat(80)}…" (${FIVE_MB} characters) is not a DNS-1123 label`);
  });

  it('reports a 5 MB role, and a 5 MB unknown key, in under 1 KB each, quickly', async () => {
    const started = Date.now();
    const role = await failure(write(GOOD.replace('role: control-plane', `role: ${'w'.repeat(FIVE_MB)}`)));
    expect(formatError(role).length).toBeLessThan(1024);
    expect(role.message).toContain(`${'w'.repeat(80)}…" (${FIVE_MB} characters) is not one of control-plane, worker`);
    const key = await failure(write(`${GOOD}? ${'k'.repeat(FIVE_MB)}\n: 1\n`));
    expect(formatError(key).length).toBeLessThan(1024);
    expect(key.message).toMatch(/:13:3: unknown top-level key "k{80}…" \(5242880 characters\)/);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('shortens a long string where a number was wanted, and what YAML made of a long number', async () => {
    const port = await failure(write(GOOD.replace('keyFile: keys/id_ed25519', `port: "${'9'.repeat(10_000)}"`)));
    expect(port.message.length).toBeLessThan(500);
    const number = await failure(write(GOOD.replace('name: demo', `name: ${'9'.repeat(10_000)}`)));
    expect(number.message).toContain(`(YAML's reading of ${'9'.repeat(80)}… (10000 characters))`);
    expect(formatError(number).length).toBeLessThan(1024);
  });

  it('shortens user paths in file problems', async () => {
    const error = await failure(write(GOOD.replace('keys/id_ed25519', `keys/${'x'.repeat(100_000)}`)));
    expect(error.errors).toHaveLength(1);
    expect(formatError(error).length).toBeLessThan(1500);
    expect(error.message).toMatch(/ssh\.keyFile: key file .*x… \(\d+ characters\) cannot be examined \(ENAMETOOLONG\)/);
  });

  it('lists at most MAX_REPORTED_PROBLEMS problems, then counts the rest at the first of them', async () => {
    const keys = Array.from({ length: 10_000 }, (_, i) => `extra${i}: ${i}`).join('\n');
    const started = Date.now();
    const path = write(`${GOOD}${keys}\n`);
    const error = await failure(path);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(error.errors).toHaveLength(MAX_REPORTED_PROBLEMS + 1);
    expect(error.errors[0]!.message).toBe(`${path}:13:1: unknown top-level key "extra0"`);
    expect(error.errors.at(-1)!.message).toBe(`${path}:${13 + MAX_REPORTED_PROBLEMS}:1: ${10_000 - MAX_REPORTED_PROBLEMS} more problems from here on, not listed`);
    expect(formatError(error).length).toBeLessThan(20_000);
  });

  it('refuses a file over MAX_INVENTORY_BYTES without parsing it', async () => {
    const path = write(Buffer.alloc(MAX_INVENTORY_BYTES + 1, 'a'));
    const error = await failure(path);
    expect(error.message).toBe(`${path}:1:1: the file is larger than 10.0 MiB; an inventory is a small text file`);
  });

  it('reads a device that never ends only up to the limit', async () => {
    const error = await failure('/dev/zero');
    expect(error.message).toMatch(/^\/dev\/zero:1:1: the file is larger than/);
  });

  it('shortens an inventory path that does not exist', async () => {
    const error = await failure(join(fixture.dir, 'n'.repeat(5000)));
    expect(error.errors[0]!.where.length).toBeLessThan(300);
  });
});
