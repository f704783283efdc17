import { describe, expect, it } from 'vitest';
import { didYouMean, editDistance } from './suggest.js';

describe('editDistance', () => {
  it('counts insertions, deletions and substitutions', () => {
    expect(editDistance('', '')).toBe(0);
    expect(editDistance('abc', 'abc')).toBe(0);
    expect(editDistance('adress', 'address')).toBe(1);
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('', 'port')).toBe(4);
  });
});

describe('didYouMean', () => {
  const hostKeys = ['name', 'address', 'role', 'internalAddress', 'labels', 'ssh'];

  it('finds a key one typo away', () => {
    expect(didYouMean('adress', hostKeys)).toBe('address');
    expect(didYouMean('lables', hostKeys)).toBe('labels');
  });

  it('matches snake_case, kebab-case and wrong capitalisation of camelCase keys', () => {
    expect(didYouMean('internal_address', hostKeys)).toBe('internalAddress');
    expect(didYouMean('internal-address', hostKeys)).toBe('internalAddress');
    expect(didYouMean('InternalAddress', hostKeys)).toBe('internalAddress');
  });

  it('prefers the closest candidate', () => {
    expect(didYouMean('rol', ['role', 'roles', 'rules'])).toBe('role');
  });

  it('stays quiet when nothing is close enough to be a useful guess', () => {
    expect(didYouMean('zone', hostKeys)).toBeUndefined();
    expect(didYouMean('x', ['ssh'])).toBeUndefined();
    expect(didYouMean('anything', [])).toBeUndefined();
  });
});
