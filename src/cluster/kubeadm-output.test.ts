import { describe, expect, it } from 'vitest';
import { caCertHashFrom, certificateKeyFrom, joinCommandFrom } from './kubeadm-output.js';
import { Redactor, generateCertificateKey, generateToken } from './secrets.js';

const HASH = 'sha256:' + 'ab'.repeat(32);

describe('kubeadm output', () => {
  it('finds the CA hash in kubeadm init output, across the line continuation', () => {
    const out = `Your Kubernetes control-plane has initialized successfully!\n\nkubeadm join 10.0.0.1:6443 --token abcdef.0123456789abcdef \\\n\t--discovery-token-ca-cert-hash ${HASH}\n`;
    expect(caCertHashFrom(out)).toBe(HASH);
  });

  it('reads token and hash from token create --print-join-command', () => {
    const out = `kubeadm join 10.0.0.1:6443 --token x1y2z3.0123456789abcdef --discovery-token-ca-cert-hash ${HASH} \n`;
    expect(joinCommandFrom(out)).toEqual({ token: 'x1y2z3.0123456789abcdef', caCertHash: HASH });
    expect(joinCommandFrom('kubeadm join 10.0.0.1:6443 --token bad')).toBeUndefined();
  });

  it('reads the certificate key after "Using certificate key:"', () => {
    const key = 'f'.repeat(64);
    const out = `[upload-certs] Storing the certificates in Secret "kubeadm-certs" in the "kube-system" Namespace\n[upload-certs] Using certificate key:\n${key}\n`;
    expect(certificateKeyFrom(out)).toBe(key);
    expect(certificateKeyFrom('nothing here')).toBeUndefined();
  });
});

describe('secrets', () => {
  it('makes tokens and keys in kubeadm formats, different each time', () => {
    const t = generateToken();
    expect(t).toMatch(/^[a-z0-9]{6}\.[a-z0-9]{16}$/);
    expect(generateToken()).not.toBe(t);
    expect(generateCertificateKey()).toMatch(/^[0-9a-f]{64}$/);
  });

  it('redacts known secrets and anything shaped like a token', () => {
    const r = new Redactor();
    const key = generateCertificateKey();
    r.add(key, 'hunter2-password');
    const text = `key ${key} pw hunter2-password token abcdef.0123456789abcdef end`;
    const out = r.redact(text);
    expect(out).not.toContain(key);
    expect(out).not.toContain('hunter2-password');
    expect(out).not.toContain('abcdef.0123456789abcdef');
    expect(out).toBe('key [redacted] pw [redacted] token [redacted-token] end');
  });
});
