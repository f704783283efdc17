// The host key decision for one connection attempt, in the shape ssh2's hostVerifier wants.
//
// ssh2 calls `hostVerifier(key, verify)` and treats any non-undefined return value as the
// verdict. An async function returns a Promise — truthy — so it would accept EVERY key. This
// verifier therefore always returns undefined and answers through `verify`.

import type { SshSettings } from '../model.js';
import { HostKeyError } from './errors.js';
import { fingerprintOf, keyTypeOf } from './host-key.js';
import { knownHostsName } from './host-patterns.js';
import { appendHostKey, checkHostKey } from './known-hosts.js';
import { shellQuote } from './quote.js';

export interface VerifierTarget {
  host: string;
  port: number;
  name: string;
}

export interface HostVerification {
  verifier: (key: Buffer, verify: (valid: boolean) => void) => void;
  /** Why the key was refused, once the verifier refused it. */
  refusal(): HostKeyError | undefined;
  /** After a successful handshake: record an accepted new key in known_hosts. */
  recordAcceptedKey(): void;
  /** The key the host presented and this verifier accepted (what peers pin when they relay to it). */
  acceptedKey(): { keyType: string; keyBlob: Buffer } | undefined;
}

/** A key refused only because known_hosts does not have it yet: someone may still decide to trust it. */
export class UnknownHostKeyError extends HostKeyError {
  constructor(
    message: string,
    hint: string,
    readonly keyType: string,
    readonly keyBlob: Buffer,
    readonly fingerprint: string,
  ) {
    super(message, hint, 'unknown');
  }
}

type KeyCheckSettings = Pick<SshSettings, 'knownHostsFile' | 'acceptNewHostKeys'>;

/**
 * `approvedKey`: a key not in known_hosts that the user has just approved for this host. It is
 * accepted like a known key and recorded once the handshake proves the host holds it.
 */
export function verifyHostKey(target: VerifierTarget, settings: KeyCheckSettings, approvedKey?: Buffer): HostVerification {
  const file = settings.knownHostsFile;
  const where = `${target.name} (${target.host} port ${target.port})`;
  let refusal: HostKeyError | undefined;
  let toRecord: { keyType: string; keyBlob: Buffer } | undefined;
  let accepted: { keyType: string; keyBlob: Buffer } | undefined;

  const decide = (keyBlob: Buffer): boolean => {
    const keyType = keyTypeOf(keyBlob) ?? 'unknown-key-type';
    const fingerprint = fingerprintOf(keyBlob);
    let verdict;
    try {
      verdict = checkHostKey(file, target.host, target.port, keyType, keyBlob);
    } catch (err) {
      refusal = new HostKeyError(
        `${where}: cannot read known_hosts file ${file}: ${(err as Error).message}`,
        'fix the permissions of the file or point ssh.knownHostsFile elsewhere',
        'file',
      );
      return false;
    }
    switch (verdict.status) {
      case 'known':
        return true;
      case 'unknown':
        if (settings.acceptNewHostKeys || approvedKey?.equals(keyBlob)) {
          toRecord = { keyType, keyBlob };
          return true;
        }
        refusal = new UnknownHostKeyError(
          `${where}: host key ${keyType} ${fingerprint} is not in ${file}`,
          'if this is the right host, rerun with --accept-new-host-keys (or set ssh.acceptNewHostKeys: true) to record its key',
          keyType,
          keyBlob,
          fingerprint,
        );
        return false;
      case 'changed':
        refusal = new HostKeyError(
          `${where}: HOST KEY CHANGED: ${file}:${verdict.line} has ${verdict.knownFingerprint}, ` +
            `the host presented ${verdict.presentedFingerprint}`,
          `if the host was reinstalled, delete line ${verdict.line} of ${file} ` +
            `(ssh-keygen -R ${shellQuote(knownHostsName(target.host, target.port))} -f ${shellQuote(file)}) and rerun; ` +
            'otherwise someone may be intercepting the connection',
          'changed',
        );
        return false;
      case 'revoked':
        refusal = new HostKeyError(
          `${where}: the host presented a revoked key ${fingerprint} (@revoked at ${file}:${verdict.line})`,
          'a revoked key is never accepted; find out why it was revoked before trusting this host',
          'revoked',
        );
        return false;
    }
  };

  return {
    verifier: (key, verify) => {
      const ok = decide(key);
      if (ok) accepted = { keyType: keyTypeOf(key) ?? 'unknown-key-type', keyBlob: Buffer.from(key) };
      verify(ok);
    },
    acceptedKey: () => accepted,
    refusal: () => refusal,
    recordAcceptedKey: () => {
      if (!toRecord) return;
      const { keyType, keyBlob } = toRecord;
      toRecord = undefined;
      try {
        appendHostKey(file, target.host, target.port, keyType, keyBlob);
      } catch (err) {
        throw new HostKeyError(
          `${where}: cannot record the host key in ${file}: ${(err as Error).message}`,
          'fix the permissions of the file or point ssh.knownHostsFile elsewhere',
          'file',
        );
      }
    },
  };
}
