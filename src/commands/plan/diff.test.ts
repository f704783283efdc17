// A plan's diffs: unified, labelled with host and path, and never carrying a secret from either side.
import { describe, expect, it } from 'vitest';
import { generateCertificateKey, generateToken, Redactor } from '../../cluster/secrets.js';
import { fileDiff } from './diff.js';
import { REDACTED, redactFileText } from './redact.js';

describe('fileDiff', () => {
  it('shows the changed line of a rendered file against the host\'s, with context', () => {
    const current = 'version = 2\n[plugins]\n  config_path = "/etc/containerd/certs.d"\n  x = 1\n';
    const planned = current.replace('certs.d', 'mirrors.d');
    const diff = fileDiff('cp1', '/etc/containerd/config.toml', current, planned, new Redactor());
    expect(diff).toContain('--- cp1:/etc/containerd/config.toml');
    expect(diff).toContain('+++ planned:/etc/containerd/config.toml');
    expect(diff).toContain('-  config_path = "/etc/containerd/certs.d"');
    expect(diff).toContain('+  config_path = "/etc/containerd/mirrors.d"');
    expect(diff).toContain(' version = 2');
  });

  it('shows a missing file as a creation from /dev/null', () => {
    const diff = fileDiff('w1', '/etc/crictl.yaml', undefined, 'runtime-endpoint: unix:///run/containerd/containerd.sock\n', new Redactor());
    expect(diff).toMatch(/^--- \/dev\/null/m);
    expect(diff).toContain('+runtime-endpoint: unix:///run/containerd/containerd.sock');
  });

  it('never lets a secret through, from the host\'s file or the planned one, whatever its shape', () => {
    const token = generateToken();
    const certificateKey = generateCertificateKey();
    const sudoPassword = 'hunter2-sudo-Password';
    const redactor = new Redactor();
    redactor.add(sudoPassword);
    const current = [
      'version = 2',
      `token: ${token}`,
      `certificateKey: ${certificateKey}`,
      '[plugins."io.containerd.grpc.v1.cri".registry.configs."r.example".auth]',
      '  password = "registry-Passw0rd"',
      '  auth = "dXNlcjpyZWdpc3RyeS1QYXNzdzByZA=="',
      '  identitytoken = "id-token-value-123"',
      'Environment="AWS_SECRET_ACCESS_KEY=aws-secret-value-456" "OTHER=fine"',
      `# left by hand: ${sudoPassword} and ${token} in a comment`,
      'client-key-data: LS0tLS1CRUdJTi1rZXktZGF0YQ==',
      '-----BEGIN RSA PRIVATE KEY-----',
      'MIIEpQIBAAKCAQEAprivatekeybody',
      '-----END RSA PRIVATE KEY-----',
      'plain = 1',
    ].join('\n');
    const planned = 'version = 2\nplain = 2\n';
    const diff = fileDiff('cp1', '/etc/containerd/config.toml', current, planned, redactor);
    for (const secret of [token, certificateKey, sudoPassword, 'registry-Passw0rd', 'dXNlcjpyZWdpc3RyeS1QYXNzdzByZA==', 'id-token-value-123', 'aws-secret-value-456', 'LS0tLS1CRUdJTi1rZXktZGF0YQ==', 'MIIEpQIBAAKCAQEAprivatekeybody']) {
      expect(diff).not.toContain(secret);
    }
    expect(diff).toContain('-plain = 1');
    expect(diff).toContain('+plain = 2');
    expect(diff).toContain(REDACTED);
    // The same secrets in the planned file are redacted too.
    expect(fileDiff('cp1', '/x', undefined, current, redactor)).not.toMatch(new RegExp(`${token}|${certificateKey}|registry-Passw0rd`));
  });

  it('is empty when the files differ only in what was redacted', () => {
    expect(fileDiff('h', '/x', 'password = "a-secret-one"\n', 'password = "another-secret"\n', new Redactor())).toBe('');
  });

  it('leaves the files kubeforge renders as they are (nothing in them looks like a secret)', () => {
    const text = [
      'version = 2',
      '[grpc]',
      'address = "/run/containerd/containerd.sock"',
      '[plugins."io.containerd.grpc.v1.cri"]',
      'sandbox_image = "registry.k8s.io/pause:3.9"',
      'SystemdCgroup = true',
      'Environment="KUBELET_KUBECONFIG_ARGS=--bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf --kubeconfig=/etc/kubernetes/kubelet.conf"',
      'runtime-endpoint: unix:///run/containerd/containerd.sock',
      'net.bridge.bridge-nf-call-iptables = 1',
    ].join('\n');
    expect(redactFileText(text, new Redactor())).toBe(text);
  });
});
