import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageRoot, renderInventorySchema, SCHEMA_FILE, writeInventorySchema } from './write-schema.js';

describe('schema/inventory.schema.json', () => {
  it('is what the zod schema generates now (regenerate: node dist/src/inventory/write-schema.js)', () => {
    const committed = readFileSync(join(packageRoot(), SCHEMA_FILE), 'utf8');
    expect(committed).toBe(renderInventorySchema());
  });

  it('is draft-07 JSON Schema with descriptions editors can show', () => {
    const schema = JSON.parse(renderInventorySchema()) as Record<string, any>;
    expect(schema.$schema).toBe('http://json-schema.org/draft-07/schema#');
    expect(schema.title).toBe('kubeforge inventory');
    const host = schema.properties.hosts.items;
    expect(host.required).toEqual(['name', 'address', 'role']);
    expect(host.properties.role.enum).toEqual(['control-plane', 'worker']);
    expect(host.properties.ssh.properties.port).toMatchObject({ type: 'integer', minimum: 1, maximum: 65535, default: 22 });
    // Fields with defaults are optional for the user, so they must not be listed as required.
    expect(schema.properties.kubernetes.required).toEqual(['version']);
  });
});

describe('writeInventorySchema', () => {
  it('writes the rendered schema to the given file, creating its directory', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kubeforge-schema-'));
    try {
      const file = await writeInventorySchema(join(dir, 'schema', 'inventory.schema.json'));
      expect(readFileSync(file, 'utf8')).toBe(renderInventorySchema());
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('finds the package root above src/ (and dist/src/)', () => {
    const root = packageRoot();
    expect(JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).name).toBe('kubeforge');
    expect(packageRoot(join(root, 'dist', 'src', 'inventory'))).toBe(root);
  });
});
