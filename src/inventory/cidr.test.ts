import { describe, expect, it } from 'vitest';
import { cidrsOverlap, isCidr, parseCidr } from './cidr.js';

const cidr = (text: string) => {
  const parsed = parseCidr(text);
  if (!parsed) throw new Error(`not a CIDR: ${text}`);
  return parsed;
};

describe('parseCidr', () => {
  it('reads IPv4 and IPv6 blocks and clears host bits', () => {
    expect(parseCidr('10.244.0.0/16')).toEqual({ family: 4, network: 0x0af40000n, prefix: 16 });
    expect(parseCidr('10.244.1.7/16')).toEqual({ family: 4, network: 0x0af40000n, prefix: 16 });
    expect(parseCidr('fd00:10::/56')).toEqual({ family: 6, network: 0xfd000010n << 96n, prefix: 56 });
    expect(parseCidr('::ffff:10.0.0.0/104')?.network).toBe((0xffffn << 32n) | 0x0a000000n);
  });

  it('rejects malformed blocks', () => {
    for (const bad of ['10.244.0.0', '10.244.0.0/33', '10.244.0/16', 'fd00::/129', '10.244.0.0/-1', 'abc/8', '10.244.0.0/16/1', '']) {
      expect(isCidr(bad), bad).toBe(false);
    }
  });
});

describe('cidrsOverlap', () => {
  it('finds a block inside another', () => {
    expect(cidrsOverlap(cidr('10.96.0.0/12'), cidr('10.100.0.0/16'))).toBe(true);
    expect(cidrsOverlap(cidr('10.244.128.0/20'), cidr('10.244.0.0/16'))).toBe(true);
    expect(cidrsOverlap(cidr('fd00::/48'), cidr('fd00:0:0:1::/64'))).toBe(true);
  });

  it('keeps neighbouring blocks and different families apart', () => {
    expect(cidrsOverlap(cidr('10.244.0.0/16'), cidr('10.96.0.0/12'))).toBe(false);
    expect(cidrsOverlap(cidr('10.0.0.0/24'), cidr('10.0.1.0/24'))).toBe(false);
    expect(cidrsOverlap(cidr('10.0.0.0/8'), cidr('::/0'))).toBe(false);
  });
});
