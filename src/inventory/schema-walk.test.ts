import { describe, expect, it } from 'vitest';
import { inventorySchema } from './schema.js';
import { allowedKeysAt, fieldDocAt, schemasAt } from './schema-walk.js';

describe('allowedKeysAt', () => {
  it('lists the keys of the object at a path, through arrays, optionals and defaults', () => {
    expect(allowedKeysAt(inventorySchema, [])).toEqual(['cluster', 'kubernetes', 'network', 'containerd', 'osPackages', 'relay', 'ssh', 'hosts']);
    expect(allowedKeysAt(inventorySchema, ['hosts', 3])).toEqual(['name', 'address', 'role', 'internalAddress', 'labels', 'ssh']);
    expect(allowedKeysAt(inventorySchema, ['hosts', 0, 'ssh'])).toContain('passwordEnv');
  });

  it('looks inside unions: a bundle given as an object has url, sha256 and tokenEnv', () => {
    expect(allowedKeysAt(inventorySchema, ['containerd', 'bundle'])).toEqual(['url', 'sha256', 'tokenEnv']);
    expect(allowedKeysAt(inventorySchema, ['kubernetes', 'images', 0])).toEqual(['url', 'sha256', 'tokenEnv']);
    expect(allowedKeysAt(inventorySchema, ['network', 'manifest'])).toEqual(['url', 'sha256', 'tokenEnv']);
    expect(allowedKeysAt(inventorySchema, ['osPackages', 'bundle'])).toEqual(['url', 'sha256', 'tokenEnv']);
  });

  it('has nothing for scalars or paths the schema does not know', () => {
    expect(allowedKeysAt(inventorySchema, ['cluster', 'name'])).toEqual([]);
    expect(allowedKeysAt(inventorySchema, ['nope'])).toEqual([]);
    expect(schemasAt(inventorySchema, ['hosts', 'name'])).toEqual([]);
  });
});

describe('fieldDocAt', () => {
  it("returns the field's description and first example", () => {
    expect(fieldDocAt(inventorySchema, ['hosts', 0, 'ssh', 'port'])).toEqual({ description: 'SSH port on the host.', example: 2222 });
    expect(fieldDocAt(inventorySchema, ['kubernetes', 'podSubnet']).example).toBe('10.244.0.0/16');
    expect(fieldDocAt(inventorySchema, ['hosts', 0, 'labels', 'zone']).description).toMatch(/^Label value/);
  });

  it('is empty where nothing is documented', () => {
    expect(fieldDocAt(inventorySchema, ['nope'])).toEqual({});
  });
});
