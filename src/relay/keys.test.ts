// The relay's key pairs as OpenSSH reads them: ssh-keygen must load every private file and derive
// exactly the public line we put in authorized_keys, including keys whose first byte is zero
// (the case ssh2's own generator got wrong).
import { execFileSync, spawnSync } from 'node:child_process';
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeRelayKeyPair, generateRelayKeyPair } from './keys.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kf-relay-keys-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** What OpenSSH derives from the private file: `ssh-ed25519 <base64>` (its comment dropped). */
function publicFromPrivate(privateKey: string): string {
  const file = path.join(dir, 'id');
  fs.writeFileSync(file, privateKey, { mode: 0o600 });
  return execFileSync('ssh-keygen', ['-y', '-f', file], { encoding: 'utf8' }).trim().split(' ').slice(0, 2).join(' ');
}

/** An ed25519 pair whose public key starts with a zero byte. */
function zeroLeadingPair(): { seed: Buffer; pub: Buffer } {
  for (;;) {
    // DER straight from the generation (see keys.ts for why not KeyObject.export).
    const { publicKey, privateKey } = generateKeyPairSync('ed25519', { publicKeyEncoding: { type: 'spki', format: 'der' }, privateKeyEncoding: { type: 'pkcs8', format: 'der' } });
    const pub = publicKey.subarray(-32);
    if (pub[0] === 0) return { seed: privateKey.subarray(-32), pub };
  }
}

describe('relay key pairs', () => {
  it('are loaded by ssh-keygen, which derives the very public line we authorize', () => {
    for (let i = 0; i < 40; i++) {
      const keys = generateRelayKeyPair(`kubeforge-relay:run:${i}`);
      expect(keys.public.endsWith(` kubeforge-relay:run:${i}`)).toBe(true);
      expect(publicFromPrivate(keys.private)).toBe(keys.public.split(' ').slice(0, 2).join(' '));
    }
  });

  it('keep a public key that starts with a zero byte whole', () => {
    const { seed, pub } = zeroLeadingPair();
    const keys = encodeRelayKeyPair(seed, pub, 'kubeforge-relay:r:t', Buffer.from([1, 2, 3, 4]));
    const blob = Buffer.from(keys.public.split(' ')[1]!, 'base64');
    expect(blob.length).toBe(4 + 11 + 4 + 32);
    expect(publicFromPrivate(keys.private)).toBe(keys.public.split(' ').slice(0, 2).join(' '));
    // The same key as node:crypto's own SPKI encoding of it.
    const spki = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: pub.toString('base64url') }, format: 'jwk' });
    expect(Buffer.from(spki.export({ format: 'jwk' }).x!, 'base64url').equals(blob.subarray(-32))).toBe(true);
  });

  it('refuse what is not an ed25519 key or a one-line comment', () => {
    expect(() => encodeRelayKeyPair(Buffer.alloc(31), Buffer.alloc(32), 'c', Buffer.alloc(4))).toThrow(/32-byte/);
    expect(() => encodeRelayKeyPair(Buffer.alloc(32), Buffer.alloc(32), 'a\nb', Buffer.alloc(4))).toThrow(/one line/);
  });

  it('never deadlock Node, however often the young generation is collected', () => {
    // The built module (npm test builds first), in a Node whose young generation is 1 MiB: with
    // KeyObject.export after the generation this stopped for good within the first thousand.
    const built = fileURLToPath(new URL('../../dist/src/relay/keys.js', import.meta.url));
    const script = `const { generateRelayKeyPair } = await import(${JSON.stringify(built)});
      for (let i = 0; i < 3000; i++) generateRelayKeyPair('kubeforge-relay:r:' + i);
      console.log('done');`;
    const child = spawnSync(process.execPath, ['--max-semi-space-size=1', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30_000, killSignal: 'SIGKILL' });
    expect(child.error?.message ?? child.stderr).toBe('');
    expect(child.stdout.trim()).toBe('done');
  });
});

