import { describe, expect, it } from 'vitest';
import { expiringSoon, type ExpirationInfo } from '../../cluster/certs-expiry.js';
import { certificatesText, type HostCertificates } from './certificates.js';

const now = new Date('2026-12-02T10:00:00Z');
const info = (apiserver: string): ExpirationInfo => ({
  certificates: [
    { name: 'admin.conf', caName: 'ca', expires: new Date('2027-12-02T10:00:00Z'), missing: false },
    { name: 'apiserver', caName: 'ca', expires: new Date(apiserver), missing: false },
    { name: 'front-proxy-client', caName: 'front-proxy-ca', missing: true },
  ],
  certificateAuthorities: [{ name: 'ca', expires: new Date('2036-11-30T10:00:00Z'), missing: false }],
});
const host = (name: string, i: ExpirationInfo): HostCertificates => ({ host: name, info: i, expiringSoon: expiringSoon(i, now), missing: ['front-proxy-client'] });

describe("status's certificate table", () => {
  it('shows per control plane the first certificate to expire and the CA, and what is missing', () => {
    const text = certificatesText([host('cp-1', info('2027-12-02T10:00:00Z'))], 'inv.yaml', now);
    expect(text.split('\n')[0]).toMatch(/^CONTROL PLANE +CERTIFICATES EXPIRE +CA EXPIRES +NOTE$/);
    expect(text).toContain('cp-1           2027-12-02 10:00 UTC (365 d, admin.conf)  2036-11-30 10:00 UTC (3651 d, ca)  missing: front-proxy-client');
    expect(text).not.toContain('warning');
  });

  it('warns under 30 days and says how to renew; a host that could not be asked says why', () => {
    const text = certificatesText(
      [host('cp-1', info('2026-12-14T10:00:00Z')), { host: 'cp-2', error: 'connect ECONNREFUSED', expiringSoon: [], missing: [] }],
      'my inv.yaml',
      now,
    );
    expect(text).toContain('cp-1           2026-12-14 10:00 UTC (12 d, apiserver)');
    expect(text).toMatch(/^cp-2 +cannot ask kubeadm +connect ECONNREFUSED$/m);
    expect(text).toContain('warning: cp-1: certificate apiserver expires in 12 days (2026-12-14 10:00 UTC, under 30 days)');
    expect(text).toContain("  renew them: kubeforge certs renew -i 'my inv.yaml'");
  });

  it('says an expired certificate has expired', () => {
    const text = certificatesText([host('cp-1', info('2026-11-30T10:00:00Z'))], 'inv.yaml', now);
    expect(text).toContain('(expired 2 d ago, apiserver)');
    expect(text).toContain('warning: cp-1: certificate apiserver has expired');
  });
});
