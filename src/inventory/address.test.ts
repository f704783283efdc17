import { describe, expect, it } from 'vitest';
import { canonicalAddress, formatHostPort, isAddress, isHostname, isIP, parseHostPort } from './address.js';

describe('isHostname / isAddress', () => {
  it('accepts RFC 1123 names and IP addresses', () => {
    for (const ok of ['cp1', 'node-1.example.com', 'localhost', 'a.b.c', '10.0.0.10', 'fd00::10']) expect(isAddress(ok), ok).toBe(true);
  });

  it('rejects a mistyped IPv4 address instead of taking it for a name', () => {
    expect(isHostname('10.0.0.300')).toBe(false);
    expect(isAddress('10.0.0.300')).toBe(false);
  });

  it('rejects spaces, underscores, empty labels and overlong labels', () => {
    for (const bad of ['10.0.0.1 ', 'my_host', 'a..b', '-a.com', 'a-.com', '', `${'a'.repeat(64)}.com`]) expect(isAddress(bad), bad).toBe(false);
  });

  it('isIP is only IP literals', () => {
    expect(isIP('192.168.1.1')).toBe(true);
    expect(isIP('::1')).toBe(true);
    expect(isIP('cp1.example.com')).toBe(false);
  });
});

describe('canonicalAddress', () => {
  it('spells one IPv6 address one way and lowercases names', () => {
    expect(canonicalAddress('FD00:0:0:0::10')).toBe('fd00::10');
    expect(canonicalAddress('fd00::10')).toBe('fd00::10');
    expect(canonicalAddress('CP1.Example.COM')).toBe('cp1.example.com');
    expect(canonicalAddress('10.0.0.1')).toBe('10.0.0.1');
  });
});

describe('parseHostPort', () => {
  it('reads host, host:port and bracketed IPv6', () => {
    expect(parseHostPort('10.0.0.10:6443')).toEqual({ host: '10.0.0.10', port: 6443 });
    expect(parseHostPort('api.example.com')).toEqual({ host: 'api.example.com' });
    expect(parseHostPort('[fd00::10]:6443')).toEqual({ host: 'fd00::10', port: 6443 });
    expect(parseHostPort('[fd00::10]')).toEqual({ host: 'fd00::10' });
    expect(parseHostPort('fd00::10')).toEqual({ host: 'fd00::10' });
  });

  it('rejects bad ports and hosts', () => {
    for (const bad of ['10.0.0.10:99999', '10.0.0.10:0', '10.0.0.10:', 'host:port', '[cp1]:6443', '10.0.0.300:6443', ':6443']) {
      expect(parseHostPort(bad), bad).toBeUndefined();
    }
  });
});

describe('formatHostPort', () => {
  it('brackets IPv6 addresses only', () => {
    expect(formatHostPort('10.0.0.10', 6443)).toBe('10.0.0.10:6443');
    expect(formatHostPort('fd00::10', 6443)).toBe('[fd00::10]:6443');
    expect(formatHostPort('api.example.com', 443)).toBe('api.example.com:443');
  });
});
