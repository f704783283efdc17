// Join secrets: made on the laptop (so they never have to be read back out of a log), kept in
// memory only, and scrubbed from any text that is shown or stored.
import { randomBytes, randomInt } from 'node:crypto';

export interface JoinMaterial {
  /** Bootstrap token, "abcdef.0123456789abcdef". */
  token: string;
  /** "sha256:<64 hex>" of the cluster CA, pinned by every join. */
  caCertHash: string;
  /** Decrypts the control-plane certificates kubeadm uploaded; only for control-plane joins. */
  certificateKey?: string;
}

const TOKEN_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

function randomString(length: number): string {
  let out = '';
  for (let i = 0; i < length; i++) out += TOKEN_ALPHABET[randomInt(TOKEN_ALPHABET.length)];
  return out;
}

/** A bootstrap token in kubeadm's format: [a-z0-9]{6}.[a-z0-9]{16}. */
export function generateToken(): string {
  return `${randomString(6)}.${randomString(16)}`;
}

/** A certificate key as `kubeadm certs certificate-key` prints it: 32 random bytes, hex. */
export function generateCertificateKey(): string {
  return randomBytes(32).toString('hex');
}

export const TOKEN_PATTERN = /\b[a-z0-9]{6}\.[a-z0-9]{16}\b/g;

/**
 * Replaces every known secret, and anything shaped like a bootstrap token, with a marker. The
 * shape rule catches tokens kubeforge did not make itself (e.g. minted by kubeadm on a rerun).
 */
export class Redactor {
  private readonly secrets = new Set<string>();

  add(...values: Array<string | undefined>): void {
    for (const v of values) if (v && v.length >= 6) this.secrets.add(v);
  }

  redact = (text: string): string => {
    let out = text;
    for (const s of this.secrets) out = out.split(s).join('[redacted]');
    return out.replace(TOKEN_PATTERN, '[redacted-token]');
  };
}
