import { describe, expect, it } from 'vitest';
import { parseExactVersion, unsupportedReason, versionInFileName } from './versions.js';

const v = (text: string) => parseExactVersion(text)!;

describe('parseExactVersion', () => {
  it('needs all three numbers; a leading v is dropped', () => {
    expect(parseExactVersion('1.30.2')).toEqual({ major: 1, minor: 30, patch: 2, text: '1.30.2' });
    expect(parseExactVersion('v2.1.0')?.text).toBe('2.1.0');
    expect(parseExactVersion('1.30')).toBeUndefined();
    expect(parseExactVersion('1.30.2-rc.1')).toBeUndefined();
  });
});

describe('supported versions', () => {
  it('Kubernetes 1.28 to 1.35, every patch release', () => {
    for (const ok of ['1.28.0', '1.30.2', '1.35.99']) expect(unsupportedReason('kubernetes', v(ok)), ok).toBeUndefined();
    expect(unsupportedReason('kubernetes', v('1.27.16'))).toBe('Kubernetes 1.27.16 is not supported (kubeforge supports Kubernetes 1.28 to 1.35)');
    expect(unsupportedReason('kubernetes', v('1.36.0'))).toMatch(/not supported/);
    expect(unsupportedReason('kubernetes', v('2.0.0'))).toMatch(/not supported/);
  });

  it('containerd 1.6 to 2.2', () => {
    for (const ok of ['1.6.0', '1.7.20', '2.0.5', '2.2.1']) expect(unsupportedReason('containerd', v(ok)), ok).toBeUndefined();
    expect(unsupportedReason('containerd', v('1.5.13'))).toBe('containerd 1.5.13 is not supported (kubeforge supports containerd 1.6 to 2.2)');
    expect(unsupportedReason('containerd', v('2.3.0'))).toMatch(/not supported/);
  });
});

describe('versionInFileName', () => {
  it('reads the release tarball names', () => {
    expect(versionInFileName('containerd', 'containerd-1.7.20-linux-amd64.tar.gz')?.text).toBe('1.7.20');
    expect(versionInFileName('containerd', 'containerd-static-2.1.4-linux-arm64.tar.gz')?.text).toBe('2.1.4');
    expect(versionInFileName('kubernetes', 'kubernetes-1.30.2-linux-amd64.tar.gz')?.text).toBe('1.30.2');
  });

  it('finds nothing in other names', () => {
    expect(versionInFileName('containerd', 'containerd.tar.gz')).toBeUndefined();
    expect(versionInFileName('containerd', 'cri-containerd-1.7.20-linux-amd64.tar.gz')).toBeUndefined();
    expect(versionInFileName('containerd', 'images.tar')).toBeUndefined();
  });
});
