// Which hosts the first field of a known_hosts line names, matched the way OpenSSH matches it.

import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * The name OpenSSH stores and looks a host up by: the bare host on port 22, `[host]:port` on any
 * other port. Lower-cased, as OpenSSH does before matching or hashing.
 */
export function knownHostsName(host: string, port: number): string {
  const name = host.toLowerCase();
  return port === 22 ? name : `[${name}]:${port}`;
}

/**
 * Does the host field of a known_hosts line (`|1|salt|hmac`, or a comma list of patterns with
 * `*`, `?` and `!negation`) name `name` (as built by knownHostsName)?
 */
export function hostFieldMatches(field: string, name: string): boolean {
  if (field.startsWith('|')) return hashedFieldMatches(field, name);
  let positive = false;
  for (const raw of field.split(',')) {
    const negated = raw.startsWith('!');
    const pattern = negated ? raw.slice(1) : raw;
    if (pattern === '' || !globMatches(pattern.toLowerCase(), name)) continue;
    // A matching negation excludes the host whatever the other patterns say.
    if (negated) return false;
    positive = true;
  }
  return positive;
}

/** `|1|base64(salt)|base64(HMAC-SHA1(key=salt, name))`, as written by HashKnownHosts / ssh-keygen -H. */
function hashedFieldMatches(field: string, name: string): boolean {
  const parts = field.split('|');
  if (parts.length !== 4 || parts[0] !== '' || parts[1] !== '1') return false;
  const salt = Buffer.from(parts[2] ?? '', 'base64');
  const expected = Buffer.from(parts[3] ?? '', 'base64');
  if (salt.length !== 20 || expected.length !== 20) return false;
  const actual = createHmac('sha1', salt).update(name).digest();
  return timingSafeEqual(actual, expected);
}

/** Glob with `*` (any run, also empty) and `?` (one character); everything else is literal. */
export function globMatches(pattern: string, text: string): boolean {
  // Iterative matcher with single-star backtracking: linear in practice, no regex escaping.
  let p = 0;
  let t = 0;
  let starP = -1;
  let starT = 0;
  while (t < text.length) {
    const c = pattern[p];
    if (c === '*') {
      starP = p++;
      starT = t;
    } else if (c !== undefined && (c === '?' || c === text[t])) {
      p++;
      t++;
    } else if (starP >= 0) {
      p = starP + 1;
      t = ++starT;
    } else {
      return false;
    }
  }
  while (pattern[p] === '*') p++;
  return p === pattern.length;
}
