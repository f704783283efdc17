// The key pair of one relay transfer, made with node:crypto and written in OpenSSH's own format.
//
// Not ssh2.utils.generateKeyPairSync: for an ed25519 public key whose first byte is zero (1 in
// 256) it drops that byte, so the public line and the private file carry a 31-byte key that
// sshd cannot match and ssh cannot load ("Load key …: error in libcrypto"). That relay then
// failed with "Permission denied (publickey)" and its target fell back to the laptop.
import { generateKeyPairSync, randomBytes } from 'node:crypto';

export interface RelayKeyPair {
  /** The authorized_keys form: `ssh-ed25519 <base64> <comment>`. */
  public: string;
  /** An unencrypted OpenSSH private key file (openssh-key-v1). */
  private: string;
}

const KEY_TYPE = 'ssh-ed25519';

// The DER forms of an ed25519 key end with its 32 bytes (RFC 8410): SubjectPublicKeyInfo, and
// PKCS #8 with the seed as an OCTET STRING inside the privateKey OCTET STRING.
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

/**
 * Encoded by the key generation itself, never as KeyObjects exported afterwards: Node (20.x)
 * can deadlock there. Exporting a generated KeyObject holds the key's mutex while it allocates;
 * a garbage collection then may free the finished key-generation job, whose destructor
 * (~KeyPairGenConfig, src/crypto/crypto_keygen.h) takes the same mutex, on the same thread.
 * Seen as a `kubeforge up` at 200 hosts that stopped for good mid-relay (main thread in
 * pthread_mutex_lock under ~KeyGenJob); the young generation capped in the #! line makes those
 * collections frequent. keys.test.ts runs thousands under a 1 MiB young generation.
 */
export function generateRelayKeyPair(comment: string): RelayKeyPair {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519', {
    publicKeyEncoding: { type: 'spki', format: 'der' },
    privateKeyEncoding: { type: 'pkcs8', format: 'der' },
  });
  return encodeRelayKeyPair(keyBytes(privateKey, PKCS8_PREFIX), keyBytes(publicKey, SPKI_PREFIX), comment, randomBytes(4));
}

function keyBytes(der: Buffer, prefix: Buffer): Buffer {
  if (der.length !== prefix.length + 32 || !der.subarray(0, prefix.length).equals(prefix)) throw new Error('unexpected DER encoding of an ed25519 key');
  return der.subarray(prefix.length);
}

/** The two encodings of an ed25519 key (32-byte seed and public key); pure, for the tests. */
export function encodeRelayKeyPair(seed: Buffer, pub: Buffer, comment: string, checkInt: Buffer): RelayKeyPair {
  if (seed.length !== 32 || pub.length !== 32) throw new Error('an ed25519 key has a 32-byte seed and a 32-byte public key');
  if (/[\r\n]/.test(comment)) throw new Error('a key comment is one line');
  const publicBlob = Buffer.concat([sshString(KEY_TYPE), sshString(pub)]);
  let section = Buffer.concat([checkInt, checkInt, sshString(KEY_TYPE), sshString(pub), sshString(Buffer.concat([seed, pub])), sshString(comment)]);
  // Padded with 1, 2, 3, … to the cipher's block size (8 for "none").
  const pad = (8 - (section.length % 8)) % 8;
  section = Buffer.concat([section, Buffer.from(Array.from({ length: pad }, (_, i) => i + 1))]);
  const file = Buffer.concat([
    Buffer.from('openssh-key-v1\0', 'latin1'),
    sshString('none'),
    sshString('none'),
    sshString(Buffer.alloc(0)),
    uint32(1),
    sshString(publicBlob),
    sshString(section),
  ]);
  const body = file.toString('base64').match(/.{1,70}/g)!.join('\n');
  return {
    public: `${KEY_TYPE} ${publicBlob.toString('base64')} ${comment}`,
    private: `-----BEGIN OPENSSH PRIVATE KEY-----\n${body}\n-----END OPENSSH PRIVATE KEY-----\n`,
  };
}

function uint32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}

function sshString(value: string | Buffer): Buffer {
  const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
  return Buffer.concat([uint32(bytes.length), bytes]);
}
