import { describe, expect, it } from 'vitest';
import { addressBytes, commonPrefixBits } from './address-prefix.js';

describe('commonPrefixBits', () => {
  it('counts the leading bits two IPv4 addresses share', () => {
    expect(commonPrefixBits('10.77.0.5', '10.77.0.5')).toBe(32);
    expect(commonPrefixBits('10.77.0.5', '10.77.0.6')).toBe(30);
    expect(commonPrefixBits('10.77.0.7', '10.77.0.8')).toBe(28);
    // Two /26 slots of one /24: 10.77.0.0/26 and 10.77.0.64/26.
    expect(commonPrefixBits('10.77.0.10', '10.77.0.70')).toBe(25);
    expect(commonPrefixBits('10.0.0.1', '192.168.0.1')).toBe(0);
    expect(commonPrefixBits('172.16.0.1', '172.31.255.254')).toBe(12);
  });

  it('counts IPv6 bits, with :: and an embedded IPv4 tail expanded', () => {
    expect(commonPrefixBits('fd00::1', 'fd00::2')).toBe(126);
    expect(commonPrefixBits('fd00:0:0:1::1', 'fd00:0:0:2::1')).toBe(62);
    expect(commonPrefixBits('::ffff:10.0.0.1', '::ffff:10.0.0.3')).toBe(126);
    expect(commonPrefixBits('fe80::1%eth0', 'fe80::1%eth1')).toBe(128);
    expect(addressBytes('2001:db8::ff00:42:8329')).toEqual([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0xff, 0, 0, 0x42, 0x83, 0x29]);
  });

  it('knows nothing about names, or across families', () => {
    expect(commonPrefixBits('cp1.example.com', '10.0.0.1')).toBeUndefined();
    expect(commonPrefixBits('10.0.0.1', '::ffff:10.0.0.1')).toBeUndefined();
  });
});
