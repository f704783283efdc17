// Hashing a file on a host: the one shell function every verification uses.

/**
 * `kf_sha256 <FILE` prints the sha256 of its stdin as 64 lowercase hex digits. OpenSSL uses the
 * CPU's SHA extensions where there are some (SHA-NI): on the bench machine it hashes the 38 MB
 * containerd bundle in 0.03 CPU-s against coreutils sha256sum's 0.10, and every host hashes every
 * bundle it receives. Hosts without openssl use sha256sum. The choice is made by presence only,
 * never after a failure: a second hasher would see a half-read stdin.
 */
export const SHA256_FUNCTION = `kf_sha256() {
  if command -v openssl >/dev/null 2>&1; then kf_h=$(openssl dgst -sha256 -r) || return 1; else kf_h=$(sha256sum) || return 1; fi
  printf '%s\\n' "\${kf_h%% *}"
}`;
