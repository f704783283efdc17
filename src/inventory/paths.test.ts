import { describe, expect, it } from 'vitest';
import { expandHome, resolveUserPath } from './paths.js';

describe('expandHome', () => {
  it('expands ~ and ~/ only', () => {
    expect(expandHome('~', '/home/me')).toBe('/home/me');
    expect(expandHome('~/.ssh/id_ed25519', '/home/me')).toBe('/home/me/.ssh/id_ed25519');
    expect(expandHome('~other/x', '/home/me')).toBe('~other/x');
    expect(expandHome('a/~/b', '/home/me')).toBe('a/~/b');
  });
});

describe('resolveUserPath', () => {
  it('resolves relative paths from the inventory directory and keeps absolute ones', () => {
    expect(resolveUserPath('bundles/c.tgz', '/srv/cluster', '/home/me')).toBe('/srv/cluster/bundles/c.tgz');
    expect(resolveUserPath('./bundles/../c.tgz', '/srv/cluster', '/home/me')).toBe('/srv/cluster/c.tgz');
    expect(resolveUserPath('/opt/c.tgz', '/srv/cluster', '/home/me')).toBe('/opt/c.tgz');
    expect(resolveUserPath('~/c.tgz', '/srv/cluster', '/home/me')).toBe('/home/me/c.tgz');
  });
});
