// Reading what kubeadm prints: the CA hash after init, a minted join command, an uploaded
// certificate key. Pure, so the formats are pinned by unit tests.

const CA_HASH = /--discovery-token-ca-cert-hash\s+(sha256:[0-9a-f]{64})\b/;
const TOKEN = /--token\s+([a-z0-9]{6}\.[a-z0-9]{16})\b/;
const CERT_KEY_LINE = /^[0-9a-f]{64}$/;

export function caCertHashFrom(output: string): string | undefined {
  return CA_HASH.exec(output)?.[1];
}

export function joinCommandFrom(output: string): { token: string; caCertHash: string } | undefined {
  const token = TOKEN.exec(output)?.[1];
  const caCertHash = caCertHashFrom(output);
  return token && caCertHash ? { token, caCertHash } : undefined;
}

/** `kubeadm init phase upload-certs --upload-certs` ends with the key on a line of its own. */
export function certificateKeyFrom(output: string): string | undefined {
  const lines = output.split('\n').map((l) => l.trim());
  const i = lines.findIndex((l) => l.includes('Using certificate key'));
  const candidates = i >= 0 ? lines.slice(i + 1) : lines;
  return candidates.find((l) => CERT_KEY_LINE.test(l));
}
