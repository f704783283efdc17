// CIDR blocks (10.244.0.0/16, fd00:10::/56): parsing and the overlap test for pod vs service subnets.
import { isIPv4, isIPv6 } from 'node:net';

export interface Cidr {
  family: 4 | 6;
  /** The block's first address as an integer (host bits cleared). */
  network: bigint;
  prefix: number;
}

function ipv4ToBigInt(text: string): bigint {
  return text.split('.').reduce((acc, octet) => (acc << 8n) | BigInt(Number(octet)), 0n);
}

function ipv6ToBigInt(text: string): bigint {
  // Expand "::" and a trailing dotted IPv4 part into eight 16-bit groups.
  let groups: string[];
  const tail = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  let body = text;
  if (tail) {
    const v4 = ipv4ToBigInt(tail[1]!);
    body = text.slice(0, -tail[1]!.length) + `${(v4 >> 16n).toString(16)}:${(v4 & 0xffffn).toString(16)}`;
  }
  if (body.includes('::')) {
    const [left, right] = body.split('::') as [string, string];
    const l = left ? left.split(':') : [];
    const r = right ? right.split(':') : [];
    groups = [...l, ...Array<string>(8 - l.length - r.length).fill('0'), ...r];
  } else {
    groups = body.split(':');
  }
  return groups.reduce((acc, group) => (acc << 16n) | BigInt(parseInt(group, 16)), 0n);
}

/** Undefined unless the text is address/prefix with a valid address and prefix length. */
export function parseCidr(text: string): Cidr | undefined {
  const m = /^([^/]+)\/(\d{1,3})$/.exec(text);
  if (!m) return undefined;
  const [address, prefixText] = [m[1]!, m[2]!];
  const prefix = Number(prefixText);
  let family: 4 | 6;
  let value: bigint;
  if (isIPv4(address)) {
    family = 4;
    value = ipv4ToBigInt(address);
  } else if (isIPv6(address) && !address.includes('%')) {
    family = 6;
    value = ipv6ToBigInt(address);
  } else {
    return undefined;
  }
  const bits = family === 4 ? 32 : 128;
  if (prefix > bits) return undefined;
  const hostBits = BigInt(bits - prefix);
  return { family, network: (value >> hostBits) << hostBits, prefix };
}

export function isCidr(text: string): boolean {
  return parseCidr(text) !== undefined;
}

/** Two blocks overlap when the shorter prefix's network contains the other's network. */
export function cidrsOverlap(a: Cidr, b: Cidr): boolean {
  if (a.family !== b.family) return false;
  const bits = a.family === 4 ? 32 : 128;
  const shortest = BigInt(bits - Math.min(a.prefix, b.prefix));
  return a.network >> shortest === b.network >> shortest;
}
