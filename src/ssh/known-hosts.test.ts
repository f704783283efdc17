import { createHmac } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fingerprintOf } from './host-key.js';
import { appendHostKey, checkHostKey, checkHostKeyIn, parseKnownHosts } from './known-hosts.js';

interface Key {
  type: string;
  base64: string;
  blob: Buffer;
  pubPath: string;
}

let dir: string;
let keyA: Key;
let keyB: Key;
let ecdsa: Key;

function generate(name: string, type: 'ed25519' | 'ecdsa'): Key {
  const path = join(dir, name);
  execFileSync('ssh-keygen', ['-q', '-t', type, '-N', '', '-C', 'test', '-f', path]);
  const [keyType, base64] = readFileSync(`${path}.pub`, 'utf8').trim().split(/\s+/);
  return { type: keyType!, base64: base64!, blob: Buffer.from(base64!, 'base64'), pubPath: `${path}.pub` };
}

function check(text: string, host: string, port: number, key: Key) {
  return checkHostKeyIn(parseKnownHosts(text), host, port, key.type, key.blob);
}

const line = (hosts: string, key: Key) => `${hosts} ${key.type} ${key.base64}`;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'kubeforge-known-hosts-'));
  keyA = generate('a', 'ed25519');
  keyB = generate('b', 'ed25519');
  ecdsa = generate('c', 'ecdsa');
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('fingerprintOf', () => {
  it('matches ssh-keygen -l', () => {
    const printed = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', keyA.pubPath], { encoding: 'utf8' });
    expect(printed.split(' ')[1]).toBe(fingerprintOf(keyA.blob));
    expect(fingerprintOf(keyA.blob)).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
  });
});

describe('plain host patterns', () => {
  it('matches an exact name on port 22 only', () => {
    const text = line('node1.example.com', keyA);
    expect(check(text, 'node1.example.com', 22, keyA)).toEqual({ status: 'known' });
    expect(check(text, 'NODE1.Example.com', 22, keyA)).toEqual({ status: 'known' });
    expect(check(text, 'node1.example.com', 2222, keyA)).toEqual({ status: 'unknown' });
    expect(check(text, 'node2.example.com', 22, keyA)).toEqual({ status: 'unknown' });
  });

  it('matches any name of a comma list', () => {
    const text = line('node1,10.0.0.5', keyA);
    expect(check(text, 'node1', 22, keyA).status).toBe('known');
    expect(check(text, '10.0.0.5', 22, keyA).status).toBe('known');
    expect(check(text, '10.0.0.6', 22, keyA).status).toBe('unknown');
  });

  it('supports * and ? wildcards', () => {
    const text = [line('*.example.com', keyA), line('node?.lab', keyA)].join('\n');
    expect(check(text, 'a.b.example.com', 22, keyA).status).toBe('known');
    expect(check(text, 'example.com', 22, keyA).status).toBe('unknown');
    expect(check(text, 'node1.lab', 22, keyA).status).toBe('known');
    expect(check(text, 'node10.lab', 22, keyA).status).toBe('unknown');
  });

  it('lets a negated pattern exclude a host the others match', () => {
    const text = line('*.example.com,!bad.example.com', keyA);
    expect(check(text, 'good.example.com', 22, keyA).status).toBe('known');
    expect(check(text, 'bad.example.com', 22, keyA).status).toBe('unknown');
  });

  it('stores non-22 ports as [host]:port, also with wildcards', () => {
    const text = [line('[10.0.0.5]:2222', keyA), line('[10.0.1.*]:2200', keyA)].join('\n');
    expect(check(text, '10.0.0.5', 2222, keyA).status).toBe('known');
    expect(check(text, '10.0.0.5', 22, keyA).status).toBe('unknown');
    expect(check(text, '10.0.0.5', 2223, keyA).status).toBe('unknown');
    expect(check(text, '10.0.1.7', 2200, keyA).status).toBe('known');
  });
});

describe('hashed entries written by ssh-keygen -H', () => {
  it('matches the hashed name, with and without a port', () => {
    const file = join(dir, 'hashed_known_hosts');
    writeFileSync(file, [line('node1.example.com', keyA), line('[10.0.0.5]:2222', keyB)].join('\n') + '\n');
    execFileSync('ssh-keygen', ['-q', '-H', '-f', file], { stdio: 'ignore' });
    const text = readFileSync(file, 'utf8');
    expect(text).not.toContain('node1');
    expect(text.split('\n').filter((l) => l.startsWith('|1|'))).toHaveLength(2);

    expect(checkHostKey(file, 'node1.example.com', 22, keyA.type, keyA.blob).status).toBe('known');
    expect(checkHostKey(file, '10.0.0.5', 2222, keyB.type, keyB.blob).status).toBe('known');
    expect(checkHostKey(file, '10.0.0.5', 22, keyB.type, keyB.blob).status).toBe('unknown');
    expect(checkHostKey(file, 'node2.example.com', 22, keyA.type, keyA.blob).status).toBe('unknown');
    // a changed key is still detected through the hash
    expect(checkHostKey(file, 'node1.example.com', 22, keyB.type, keyB.blob)).toMatchObject({
      status: 'changed',
      line: 1,
    });
  });
});

describe('decisions', () => {
  it('reports a changed key with the line and both fingerprints', () => {
    const text = ['# cluster hosts', '', line('node1', ecdsa), line('node1', keyA)].join('\n');
    expect(check(text, 'node1', 22, keyB)).toEqual({
      status: 'changed',
      line: 4,
      knownFingerprint: fingerprintOf(keyA.blob),
      presentedFingerprint: fingerprintOf(keyB.blob),
    });
  });

  it('treats a key of a type not yet recorded for the host as unknown, not changed', () => {
    expect(check(line('node1', ecdsa), 'node1', 22, keyA)).toEqual({ status: 'unknown' });
  });

  it('accepts the key when any of several lines for the host has it', () => {
    const text = [line('node1', keyB), line('node1', keyA)].join('\n');
    expect(check(text, 'node1', 22, keyA).status).toBe('known');
  });

  it('refuses a revoked key even when another line trusts it', () => {
    const text = [line('node1', keyA), `@revoked * ${keyA.type} ${keyA.base64}`].join('\n');
    expect(check(text, 'node1', 22, keyA)).toEqual({ status: 'revoked', line: 2 });
    // the @revoked pattern `*` covers every host; other keys are not affected
    expect(check(text, 'node2', 22, keyA)).toEqual({ status: 'revoked', line: 2 });
    expect(check(text, 'node2', 22, keyB).status).toBe('unknown');
  });

  it('does not trust a plain key listed as @cert-authority', () => {
    const text = `@cert-authority *.example.com ${keyA.type} ${keyA.base64}`;
    expect(check(text, 'node1.example.com', 22, keyA).status).toBe('unknown');
  });

  it('skips comments, blank, unknown-marker and corrupt lines but keeps line numbers', () => {
    const text = [
      '# comment',
      '   ',
      `@weird node1 ${keyB.type} ${keyB.base64}`,
      'node1 ssh-ed25519 not-base64!!',
      `node1 ssh-rsa ${keyB.base64}`,
      `  ${line('node1', keyB)}   trailing comment`,
    ].join('\n');
    const entries = parseKnownHosts(text);
    expect(entries.map((e) => e.line)).toEqual([6]);
    expect(check(text, 'node1', 22, keyA)).toMatchObject({ status: 'changed', line: 6 });
  });

  it('treats a missing known_hosts file as knowing no host', () => {
    expect(checkHostKey(join(dir, 'nope', 'known_hosts'), 'node1', 22, keyA.type, keyA.blob)).toEqual({
      status: 'unknown',
    });
  });
});

describe('appendHostKey', () => {
  it('creates the directory 0700 and the file 0600 with an OpenSSH-readable line', () => {
    const file = join(dir, 'fresh', '.ssh', 'known_hosts');
    appendHostKey(file, '127.0.0.1', 2222, keyA.type, keyA.blob);
    expect(readFileSync(file, 'utf8')).toBe(`[127.0.0.1]:2222 ${keyA.type} ${keyA.base64}\n`);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'fresh', '.ssh')).mode & 0o777).toBe(0o700);
    expect(checkHostKey(file, '127.0.0.1', 2222, keyA.type, keyA.blob).status).toBe('known');
    // ssh-keygen -F finds the host the way ssh(1) will
    const found = execFileSync('ssh-keygen', ['-F', '[127.0.0.1]:2222', '-f', file], { encoding: 'utf8' });
    expect(found).toContain(keyA.base64);
  });

  it('appends without touching existing lines, adding a missing final newline', () => {
    const file = join(dir, 'existing_known_hosts');
    writeFileSync(file, line('node1', keyB), { mode: 0o644 });
    appendHostKey(file, 'Node2', 22, keyA.type, keyA.blob);
    expect(readFileSync(file, 'utf8')).toBe(`${line('node1', keyB)}\nnode2 ${keyA.type} ${keyA.base64}\n`);
    expect(statSync(file).mode & 0o777).toBe(0o644);
  });
});

describe('the index checkHostKey keeps per file', () => {
  it('answers as matching every line does, whatever the file holds (property)', () => {
    const names = ['n1', 'n2', 'N3', '10.0.0.1', '[10.0.0.1]:2222', 'n10'];
    const hashed = (name: string) => {
      const salt = Buffer.alloc(20, name.length);
      return `|1|${salt.toString('base64')}|${createHmac('sha1', salt).update(name.toLowerCase()).digest('base64')}`;
    };
    const field = fc.oneof(
      fc.uniqueArray(fc.constantFrom(...names), { minLength: 1, maxLength: 3 }).map((xs) => xs.join(',')),
      fc.constantFrom('n*', '!n2,n*', 'n?', '10.0.0.*', '*'),
      fc.constantFrom(...names).map(hashed),
    );
    const entry = fc.record({ marker: fc.constantFrom('', '@revoked ', '@cert-authority '), hosts: field, key: fc.constantFrom(0, 1, 2) });
    fc.assert(
      fc.property(fc.array(entry, { maxLength: 12 }), fc.constantFrom(...names, 'other'), fc.constantFrom(22, 2222), fc.constantFrom(0, 1, 2), (entries, host, port, k) => {
        const keys = [keyA, keyB, ecdsa];
        const text = entries.map((e) => `${e.marker}${line(e.hosts, keys[e.key]!)}`).join('\n') + '\n';
        const file = join(dir, 'property_known_hosts');
        writeFileSync(file, text);
        const h = host.startsWith('[') ? '10.0.0.1' : host;
        const key = keys[k]!;
        expect(checkHostKey(file, h, port, key.type, key.blob)).toEqual(checkHostKeyIn(parseKnownHosts(text), h, port, key.type, key.blob));
      }),
      { numRuns: 300 },
    );
  });

  it('sees a line appended since the last check', () => {
    const file = join(dir, 'growing_known_hosts');
    writeFileSync(file, `${line('n1', keyA)}\n`);
    expect(checkHostKey(file, 'n2', 22, keyB.type, keyB.blob).status).toBe('unknown');
    appendHostKey(file, 'n2', 22, keyB.type, keyB.blob);
    expect(checkHostKey(file, 'n2', 22, keyB.type, keyB.blob).status).toBe('known');
    expect(checkHostKey(file, 'n1', 22, keyB.type, keyB.blob)).toMatchObject({ status: 'changed', line: 1 });
  });
});
