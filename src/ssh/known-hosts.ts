// OpenSSH known_hosts: read it to decide whether a presented host key is trusted, and append to
// it when the user accepts a new host. The file stays compatible with ssh(1): users can inspect
// and fix it with ssh-keygen -F / -R.

import { closeSync, fstatSync, mkdirSync, openSync, readFileSync, readSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { fingerprintOf, keyTypeOf } from './host-key.js';
import { hostFieldMatches, knownHostsName } from './host-patterns.js';

export interface KnownHostsEntry {
  /** 1-based line number in the file. */
  line: number;
  marker?: 'cert-authority' | 'revoked';
  /** The host field as written: a pattern list or a hashed `|1|salt|hmac`. */
  hosts: string;
  keyType: string;
  keyBlob: Buffer;
}

export type HostKeyStatus =
  | { status: 'known' }
  | { status: 'unknown' }
  | { status: 'changed'; line: number; knownFingerprint: string; presentedFingerprint: string }
  | { status: 'revoked'; line: number };

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** Entries of a known_hosts text; comments, blank lines and lines OpenSSH would reject are skipped. */
export function parseKnownHosts(text: string): KnownHostsEntry[] {
  const entries: KnownHostsEntry[] = [];
  text.split('\n').forEach((raw, index) => {
    const fields = raw.trim().split(/[ \t]+/);
    if (fields[0] === '' || fields[0]?.startsWith('#')) return;
    let marker: KnownHostsEntry['marker'];
    if (fields[0]?.startsWith('@')) {
      if (fields[0] === '@cert-authority') marker = 'cert-authority';
      else if (fields[0] === '@revoked') marker = 'revoked';
      else return;
      fields.shift();
    }
    const [hosts, keyType, base64] = fields;
    if (!hosts || !keyType || !base64 || !BASE64.test(base64)) return;
    const keyBlob = Buffer.from(base64, 'base64');
    // A line whose blob names another type than its second field is corrupt; OpenSSH ignores it too.
    if (keyTypeOf(keyBlob) !== keyType) return;
    entries.push({ line: index + 1, ...(marker ? { marker } : {}), hosts, keyType, keyBlob });
  });
  return entries;
}

/** Decide about the key `host:port` presented, given the entries of a known_hosts file. */
export function checkHostKeyIn(
  entries: readonly KnownHostsEntry[],
  host: string,
  port: number,
  keyType: string,
  keyBlob: Buffer,
): HostKeyStatus {
  const name = knownHostsName(host, port);
  return decide(
    entries.filter((e) => hostFieldMatches(e.hosts, name)),
    keyType,
    keyBlob,
  );
}

/** The decision, from the entries that name the host (in file order). */
function decide(forHost: readonly KnownHostsEntry[], keyType: string, keyBlob: Buffer): HostKeyStatus {
  // Trust the type the blob itself names over a negotiated algorithm name such as rsa-sha2-512.
  const type = keyTypeOf(keyBlob) ?? keyType;

  const revoked = forHost.find((e) => e.marker === 'revoked' && e.keyBlob.equals(keyBlob));
  if (revoked) return { status: 'revoked', line: revoked.line };

  // @cert-authority lines vouch for host certificates, never for a plain key.
  const plain = forHost.filter((e) => e.marker === undefined && e.keyType === type);
  if (plain.some((e) => e.keyBlob.equals(keyBlob))) return { status: 'known' };
  const other = plain[0];
  if (other) {
    return {
      status: 'changed',
      line: other.line,
      knownFingerprint: fingerprintOf(other.keyBlob),
      presentedFingerprint: fingerprintOf(keyBlob),
    };
  }
  // Keys of other types for this host do not make this one "changed": OpenSSH treats it as new.
  return { status: 'unknown' };
}

/**
 * A known_hosts text, parsed, with the entries that name hosts literally (no hash, no pattern:
 * what kubeforge and `ssh -o StrictHostKeyChecking=accept-new` write) indexed by name. A run
 * checks every host against the same file: parsing it and matching every line once per host
 * made that quadratic in the number of hosts.
 */
export interface KnownHostsIndex {
  literal: Map<string, KnownHostsEntry[]>;
  /** Hashed entries and pattern lists: matched one by one, as before. */
  matched: KnownHostsEntry[];
}

export function indexKnownHosts(entries: readonly KnownHostsEntry[]): KnownHostsIndex {
  const literal = new Map<string, KnownHostsEntry[]>();
  const matched: KnownHostsEntry[] = [];
  for (const e of entries) {
    if (e.hosts.startsWith('|') || /[*?!]/.test(e.hosts)) {
      matched.push(e);
      continue;
    }
    for (const name of new Set(e.hosts.toLowerCase().split(','))) {
      if (name === '') continue;
      const list = literal.get(name);
      if (list) list.push(e);
      else literal.set(name, [e]);
    }
  }
  return { literal, matched };
}

/** checkHostKeyIn, through an index: the same answer. */
export function checkHostKeyIndexed(index: KnownHostsIndex, host: string, port: number, keyType: string, keyBlob: Buffer): HostKeyStatus {
  const name = knownHostsName(host, port);
  const forHost = [...(index.literal.get(name) ?? []), ...index.matched.filter((e) => hostFieldMatches(e.hosts, name))].sort((a, b) => a.line - b.line);
  return decide(forHost, keyType, keyBlob);
}

/** The last text read per file, and its index: reused while the file's text is the same. */
const indexed = new Map<string, { text: string; index: KnownHostsIndex }>();

/** checkHostKeyIn on a file (read each time); a missing file means every host is unknown. */
export function checkHostKey(file: string, host: string, port: number, keyType: string, keyBlob: Buffer): HostKeyStatus {
  const text = readIfExists(file);
  let cached = indexed.get(file);
  if (cached?.text !== text) {
    cached = { text, index: indexKnownHosts(parseKnownHosts(text)) };
    indexed.set(file, cached);
  }
  return checkHostKeyIndexed(cached.index, host, port, keyType, keyBlob);
}

/**
 * Append `name keytype base64` for the host, creating the file 0600 (and its directory 0700).
 * Opened with O_APPEND, written in one write: the existing lines are never rewritten, and
 * parallel connections appending at once cannot interleave inside a line.
 */
export function appendHostKey(file: string, host: string, port: number, keyType: string, keyBlob: Buffer): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const fd = openSync(file, 'a+', 0o600);
  try {
    const line = `${knownHostsName(host, port)} ${keyType} ${keyBlob.toString('base64')}\n`;
    writeSync(fd, endsWithNewline(fd) ? line : `\n${line}`);
  } finally {
    closeSync(fd);
  }
}

function endsWithNewline(fd: number): boolean {
  const { size } = fstatSync(fd);
  if (size === 0) return true;
  const last = Buffer.alloc(1);
  readSync(fd, last, 0, 1, size - 1);
  return last[0] === 0x0a;
}

function readIfExists(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return '';
    throw err;
  }
}
