import { describe, expect, it } from 'vitest';
import { parseVersion, type Version } from '../model.js';
import { checkExpirationArgs, expiringSoon, firstExpiry, missingCertificates, parseCheckExpiration, parseExpirationJson, parseExpirationTable } from './certs-expiry.js';

const v = (text: string) => parseVersion(text) as Version;

// As kubeadm 1.30 prints it (cmd/kubeadm/app/cmd/certs.go; tabwriter padding 3), with a missing one.
const TABLE = `[check-expiration] Reading configuration from the "kubeadm-config" ConfigMap in namespace "kube-system"...
[check-expiration] Use 'kubeadm init phase upload-config --config your-config-file' to re-upload it.

CERTIFICATE                EXPIRES                  RESIDUAL TIME   CERTIFICATE AUTHORITY   EXTERNALLY MANAGED
admin.conf                 Aug 19, 2026 09:03 UTC   360d            ca                      no      
apiserver                  Jan 05, 2026 09:03 UTC   12d             ca                      no      
apiserver-etcd-client      Aug 19, 2026 09:03 UTC   360d            etcd-ca                 no      
!MISSING! front-proxy-client                                                                
scheduler.conf             Aug 19, 2026 09:03 UTC   360d            ca                      no      

CERTIFICATE AUTHORITY   EXPIRES                  RESIDUAL TIME   EXTERNALLY MANAGED
ca                      Aug 17, 2035 09:03 UTC   9y              no      
etcd-ca                 Aug 17, 2035 09:03 UTC   9y              no      
`;

const JSON_OUTPUT = JSON.stringify(
  {
    kind: 'CertificateExpirationInfo',
    apiVersion: 'output.kubeadm.k8s.io/v1alpha3',
    certificates: [
      { name: 'admin.conf', expirationDate: '2026-08-19T09:03:12Z', residualTime: 31_000_000, externallyManaged: false, caName: 'ca', missing: false },
      { name: 'front-proxy-client', expirationDate: null, residualTime: 0, externallyManaged: false, caName: 'front-proxy-ca', missing: true },
    ],
    certificateAuthorities: [{ name: 'ca', expirationDate: '2035-08-17T09:03:12Z', residualTime: 300_000_000, externallyManaged: false, missing: false }],
  },
  null,
  4,
);

describe('kubeadm certs check-expiration output', () => {
  it('asks for JSON from 1.30 (when -o arrived), the table before', () => {
    expect(checkExpirationArgs(v('1.29.9'))).toEqual(['certs', 'check-expiration']);
    expect(checkExpirationArgs(v('1.30.0'))).toEqual(['certs', 'check-expiration', '-o', 'json']);
    expect(checkExpirationArgs(v('1.35.0'))).toContain('json');
  });

  it('reads the table: dates in UTC, the CA of each certificate, missing ones', () => {
    const info = parseExpirationTable(TABLE);
    expect(info.certificates.map((c) => c.name)).toEqual(['admin.conf', 'apiserver', 'apiserver-etcd-client', 'front-proxy-client', 'scheduler.conf']);
    expect(info.certificates[1]).toEqual({ name: 'apiserver', caName: 'ca', expires: new Date('2026-01-05T09:03:00Z'), missing: false });
    expect(info.certificates[2]!.caName).toBe('etcd-ca');
    expect(info.certificates[3]).toEqual({ name: 'front-proxy-client', missing: true });
    expect(info.certificateAuthorities.map((c) => [c.name, c.expires?.toISOString()])).toEqual([
      ['ca', '2035-08-17T09:03:00.000Z'],
      ['etcd-ca', '2035-08-17T09:03:00.000Z'],
    ]);
    expect(missingCertificates(info)).toEqual(['front-proxy-client']);
    expect(firstExpiry(info)?.name).toBe('apiserver');
  });

  it('reads the JSON kind CertificateExpirationInfo, and refuses another kind or no JSON', () => {
    const info = parseCheckExpiration(JSON_OUTPUT, v('1.31.1'));
    expect(info.certificates[0]).toEqual({ name: 'admin.conf', caName: 'ca', expires: new Date('2026-08-19T09:03:12Z'), missing: false });
    expect(info.certificates[1]).toEqual({ name: 'front-proxy-client', caName: 'front-proxy-ca', missing: true });
    expect(info.certificateAuthorities[0]!.caName).toBeUndefined();
    expect(() => parseExpirationJson('{"kind":"Images"}')).toThrow(/not CertificateExpirationInfo/);
    expect(() => parseExpirationJson('error: something')).toThrow(/not JSON/);
  });

  it('refuses output without a table rather than reporting no certificates', () => {
    expect(() => parseExpirationTable('[check-expiration] Error reading configuration\n')).toThrow(/no certificate table/);
    expect(() => parseExpirationTable('CERTIFICATE   EXPIRES   RESIDUAL TIME\nadmin.conf   soon   1d   ca   no\n')).toThrow(/cannot read the line/);
  });

  it('warns for what expires within 30 days or has expired, soonest first; a CA is flagged as one', () => {
    const info = parseExpirationTable(TABLE);
    const now = new Date('2025-12-24T09:03:00Z');
    expect(expiringSoon(info, now)).toEqual([{ name: 'apiserver', days: 12, expires: new Date('2026-01-05T09:03:00Z'), authority: false }]);
    expect(expiringSoon(info, new Date('2026-01-06T09:03:00Z')).map((w) => [w.name, w.days])).toEqual([['apiserver', -1]]);
    expect(expiringSoon(info, new Date('2035-08-01T00:00:00Z')).filter((w) => w.authority).map((w) => w.name)).toEqual(['ca', 'etcd-ca']);
    expect(expiringSoon(info, new Date('2025-11-01T00:00:00Z'))).toEqual([]);
  });
});
