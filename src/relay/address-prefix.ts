// How many leading bits two IP addresses share: the router's guess at how far apart two hosts'
// networks are. Subnets are cut from the top of the address, so two hosts that share fewer bits
// than a pair that could not reach each other are presumed unable to as well.
import { isIP } from 'node:net';

/** The common leading bits of two IP literals; undefined when either is not one, or they differ in family. */
export function commonPrefixBits(a: string, b: string): number | undefined {
  const x = addressBytes(a);
  const y = addressBytes(b);
  if (!x || !y || x.length !== y.length) return undefined;
  for (let i = 0; i < x.length; i++) {
    const diff = x[i]! ^ y[i]!;
    if (diff !== 0) return i * 8 + Math.clz32(diff) - 24;
  }
  return x.length * 8;
}

/** The address's bytes (4 or 16), or undefined for anything that is not an IP literal. */
export function addressBytes(address: string): number[] | undefined {
  const family = isIP(address);
  if (family === 4) return address.split('.').map(Number);
  if (family !== 6) return undefined;
  // A zone (fe80::1%eth0) names the link, not part of the address.
  let text = address.split('%')[0]!;
  // An embedded IPv4 tail (::ffff:10.0.0.1) as two groups.
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const [p, q, r, s] = v4[1]!.split('.').map(Number) as [number, number, number, number];
    text = `${text.slice(0, v4.index)}${((p << 8) | q).toString(16)}:${((r << 8) | s).toString(16)}`;
  }
  const [head, tail] = text.split('::') as [string, string | undefined];
  const groups = (s: string) => (s === '' ? [] : s.split(':').map((g) => parseInt(g, 16)));
  const front = groups(head);
  const back = tail === undefined ? [] : groups(tail);
  const all = tail === undefined ? front : [...front, ...Array<number>(8 - front.length - back.length).fill(0), ...back];
  return all.flatMap((g) => [g >> 8, g & 0xff]);
}
