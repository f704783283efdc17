// Every file in test/inventories/bad is an inventory with one kind of mistake. Its first comment
// lines say what loading it must report:
//   # expect: <substring of an error line "FILE:LINE:COL: message">
//   # expect-warning: <substring of a warning line>   (the file loads, with this warning)
// {file} stands for the path the test loads the file from, {dir} for the directory holding the
// fixture files (bundles/, keys/) the inventories name. The error count must equal the number of
// expect lines, so a file that starts reporting unrelated noise fails too.
import { copyFileSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exitCodeOf, ExitCode, InputError, InputErrors } from '../errors.js';
import { makeInventoryFixture, type InventoryFixture } from '../../test/inventories/fixtures.js';
import { loadInventory } from './index.js';

const CORPUS = fileURLToPath(new URL('../../test/inventories/bad/', import.meta.url));
const files = readdirSync(CORPUS)
  .filter((f) => f.endsWith('.yaml'))
  .sort();

function expectations(text: string): { errors: string[]; warnings: string[] } {
  const errors: string[] = [];
  const warnings: string[] = [];
  for (const line of text.split('\n')) {
    const m = /^# (expect|expect-warning): (.+)$/.exec(line);
    if (!m) break;
    (m[1] === 'expect' ? errors : warnings).push(m[2]!);
  }
  return { errors, warnings };
}

describe('corpus of bad inventories', () => {
  let fixture: InventoryFixture;
  beforeAll(() => {
    fixture = makeInventoryFixture();
  });
  afterAll(() => fixture.remove());

  it('holds at least 40 files, each stating what it expects', () => {
    expect(files.length).toBeGreaterThanOrEqual(40);
    for (const name of files) {
      const { errors, warnings } = expectations(readFileSync(join(CORPUS, name), 'utf8'));
      expect(errors.length + warnings.length, name).toBeGreaterThan(0);
      expect(/^\d\d-[a-z0-9-]+\.yaml$/.test(name), name).toBe(true);
    }
  });

  it.each(files)('%s', async (name) => {
    const path = join(fixture.dir, name);
    copyFileSync(join(CORPUS, name), path);
    const want = expectations(readFileSync(path, 'utf8'));
    const fill = (s: string) => s.replaceAll('{file}', path).replaceAll('{dir}', fixture.dir);

    if (want.errors.length === 0) {
      const { warnings } = await loadInventory(path, { env: fixture.env });
      expect(warnings).toHaveLength(want.warnings.length);
      for (const w of want.warnings) expect(warnings).toContainEqual(expect.stringContaining(fill(w)));
      return;
    }

    const error: unknown = await loadInventory(path, { env: fixture.env }).then(
      () => 'loaded without error',
      (err: unknown) => err,
    );
    expect(error).toBeInstanceOf(InputErrors);
    expect(exitCodeOf(error)).toBe(ExitCode.input);
    const errors = (error as InputErrors).errors;
    for (const e of errors) {
      expect(e).toBeInstanceOf(InputError);
      expect(e.hint, e.message).toMatch(/\S/);
    }
    const messages = errors.map((e) => e.message);
    expect(messages).toHaveLength(want.errors.length);
    for (const w of want.errors) expect(messages).toContainEqual(expect.stringContaining(fill(w)));
  });
});
