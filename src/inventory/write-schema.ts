// Writes schema/inventory.schema.json, the JSON Schema editors use to check and complete
// inventories (via the "# yaml-language-server: $schema=…" line). Generated from the zod schema so
// the two cannot drift; a unit test fails when the committed file is stale.
//   node dist/src/inventory/write-schema.js [output-file]
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { inventoryJsonSchema } from './schema.js';

/** Where the schema lives inside the package. */
export const SCHEMA_FILE = join('schema', 'inventory.schema.json');

/** The file's exact content: 2-space JSON with a final newline. */
export function renderInventorySchema(): string {
  return JSON.stringify(inventoryJsonSchema(), null, 2) + '\n';
}

/** The kubeforge package directory, found upwards from this module (src/… or dist/src/…). */
export function packageRoot(from: string = dirname(fileURLToPath(import.meta.url))): string {
  for (let dir = from; ; dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'kubeforge') return dir;
    if (dirname(dir) === dir) throw new Error(`no kubeforge package.json above ${from}`);
  }
}

export async function writeInventorySchema(file: string = join(packageRoot(), SCHEMA_FILE)): Promise<string> {
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, renderInventorySchema());
  return file;
}

function isMain(): boolean {
  const script = process.argv[1];
  return script !== undefined && pathToFileURL(realpathSync(script)).href === import.meta.url;
}

if (isMain()) {
  const target = process.argv[2] ? resolve(process.argv[2]) : undefined;
  writeInventorySchema(target).then(
    (file) => process.stdout.write(`wrote ${file}\n`),
    (err: unknown) => {
      process.stderr.write(`error: ${(err as Error).message}\n`);
      process.exitCode = 1;
    },
  );
}
