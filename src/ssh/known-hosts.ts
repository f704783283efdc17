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
  // Trust the type the blob itself names over a negotiated algorithm name such as rsa-sha2-512.
  const type = keyTypeOf(keyBlob) ?? keyType;
  const forHost = entries.filter((e) => hostFieldMatches(e.hosts, name));

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

/** checkHostKeyIn on a file; a missing file means every host is unknown. */
export function checkHostKey(file: string, host: string, port: number, keyType: string, keyBlob: Buffer): HostKeyStatus {
  return checkHostKeyIn(parseKnownHosts(readIfExists(file)), host, port, keyType, keyBlob);
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
