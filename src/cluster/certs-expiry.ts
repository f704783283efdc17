// What `kubeadm certs check-expiration` says about a control plane's certificates, read from
// either of its outputs: the JSON kubeadm prints with `-o json` from Kubernetes 1.30
// (CertificateExpirationInfo, output.kubeadm.k8s.io/v1alpha3; kubernetes#123372), or the table
// every supported version prints (cmd/kubeadm/app/cmd/certs.go). Pure: no host, no clock.
import type { Version } from '../model.js';

export interface CertExpiry {
  name: string;
  /** Certificates: the CA that signed it (ca, etcd-ca, front-proxy-ca). Absent for the CAs. */
  caName?: string;
  /** undefined when the certificate is missing. */
  expires?: Date;
  missing: boolean;
}

export interface ExpirationInfo {
  certificates: CertExpiry[];
  certificateAuthorities: CertExpiry[];
}

/** A certificate that expires this soon gets a warning (kubeadm upgrades renew them; nothing else does). */
export const EXPIRY_WARNING_DAYS = 30;
const DAY_MS = 24 * 60 * 60 * 1000;

/** kubeadm's arguments: JSON where kubeadm has it (1.30 and later), the table before. */
export function checkExpirationArgs(version: Version): string[] {
  return version.major === 1 && version.minor < 30 ? ['certs', 'check-expiration'] : ['certs', 'check-expiration', '-o', 'json'];
}

export function parseCheckExpiration(output: string, version: Version): ExpirationInfo {
  return checkExpirationArgs(version).includes('json') ? parseExpirationJson(output) : parseExpirationTable(output);
}

interface JsonCertificate {
  name?: unknown;
  expirationDate?: unknown;
  caName?: unknown;
  missing?: unknown;
}

function fromJson(item: JsonCertificate, where: string): CertExpiry {
  if (typeof item.name !== 'string') throw new Error(`kubeadm certs check-expiration: an entry of ${where} has no name`);
  const missing = item.missing === true;
  const cert: CertExpiry = { name: item.name, missing };
  if (typeof item.caName === 'string' && item.caName !== '') cert.caName = item.caName;
  if (!missing) {
    const expires = typeof item.expirationDate === 'string' ? new Date(item.expirationDate) : undefined;
    if (!expires || Number.isNaN(expires.getTime())) throw new Error(`kubeadm certs check-expiration: ${item.name} has no valid expirationDate`);
    cert.expires = expires;
  }
  return cert;
}

export function parseExpirationJson(output: string): ExpirationInfo {
  // kubeadm prints only the object; anything before its first brace (a klog line) is not ours.
  const start = output.indexOf('{');
  let doc: { kind?: unknown; certificates?: unknown; certificateAuthorities?: unknown };
  try {
    doc = JSON.parse(start < 0 ? output : output.slice(start)) as typeof doc;
  } catch {
    throw new Error('kubeadm certs check-expiration -o json printed something that is not JSON');
  }
  if (doc.kind !== 'CertificateExpirationInfo') throw new Error(`kubeadm certs check-expiration -o json printed kind ${String(doc.kind)}, not CertificateExpirationInfo`);
  const list = (v: unknown, where: string) => (Array.isArray(v) ? v.map((i) => fromJson(i as JsonCertificate, where)) : []);
  return { certificates: list(doc.certificates, 'certificates'), certificateAuthorities: list(doc.certificateAuthorities, 'certificateAuthorities') };
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** "Jan 02, 2006 15:04 MST" in UTC, as kubeadm formats EXPIRES. */
function parseTableDate(text: string): Date | undefined {
  const m = /^([A-Z][a-z]{2}) (\d{2}), (\d{4}) (\d{2}):(\d{2}) UTC$/.exec(text);
  const month = m ? MONTHS.indexOf(m[1]!) : -1;
  if (!m || month < 0) return undefined;
  return new Date(Date.UTC(Number(m[3]), month, Number(m[2]), Number(m[4]), Number(m[5])));
}

/**
 * The two tables (CERTIFICATE ..., CERTIFICATE AUTHORITY ...): columns are separated by at
 * least three spaces (Go's tabwriter with padding 3), a missing one is "!MISSING! name".
 */
export function parseExpirationTable(output: string): ExpirationInfo {
  const info: ExpirationInfo = { certificates: [], certificateAuthorities: [] };
  let into: CertExpiry[] | undefined;
  let authorities = false;
  for (const raw of output.split('\n')) {
    const line = raw.trimEnd();
    if (/^CERTIFICATE AUTHORITY\s{3,}EXPIRES/.test(line)) {
      into = info.certificateAuthorities;
      authorities = true;
      continue;
    }
    if (/^CERTIFICATE\s{3,}EXPIRES/.test(line)) {
      into = info.certificates;
      authorities = false;
      continue;
    }
    if (!into) continue;
    if (line === '') {
      into = undefined;
      continue;
    }
    const missing = /^!MISSING! (\S+)$/.exec(line);
    if (missing) {
      into.push({ name: missing[1]!, missing: true });
      continue;
    }
    const cells = line.split(/\s{3,}/);
    const expires = parseTableDate(cells[1] ?? '');
    if (!expires) throw new Error(`kubeadm certs check-expiration: cannot read the line "${line}"`);
    const cert: CertExpiry = { name: cells[0]!, expires, missing: false };
    // CERTIFICATE rows: name, expires, residual, CA, externally managed (the CA may be blank in old kubeadm).
    if (!authorities && cells.length >= 5 && cells[3]) cert.caName = cells[3];
    into.push(cert);
  }
  if (info.certificates.length === 0 && info.certificateAuthorities.length === 0) {
    throw new Error('kubeadm certs check-expiration printed no certificate table');
  }
  return info;
}

export interface ExpiryWarning {
  name: string;
  /** Whole days left (negative: expired that many days ago). */
  days: number;
  expires: Date;
  authority: boolean;
}

/** Certificates and CAs that expire within `days` of `now` (or already did), soonest first. */
export function expiringSoon(info: ExpirationInfo, now: Date, days = EXPIRY_WARNING_DAYS): ExpiryWarning[] {
  const all = [
    ...info.certificates.map((c) => ({ c, authority: false })),
    ...info.certificateAuthorities.map((c) => ({ c, authority: true })),
  ];
  return all
    .filter(({ c }) => c.expires !== undefined && c.expires.getTime() - now.getTime() < days * DAY_MS)
    .map(({ c, authority }) => ({ name: c.name, expires: c.expires!, days: Math.floor((c.expires!.getTime() - now.getTime()) / DAY_MS), authority }))
    .sort((a, b) => a.expires.getTime() - b.expires.getTime());
}

/** The certificate that expires first (the CAs aside: they last ten years and are not renewed). */
export function firstExpiry(info: ExpirationInfo): CertExpiry | undefined {
  return info.certificates.filter((c) => c.expires).sort((a, b) => a.expires!.getTime() - b.expires!.getTime())[0];
}

/** Certificates kubeadm reported missing: on a control plane, something is wrong. */
export function missingCertificates(info: ExpirationInfo): string[] {
  return [...info.certificates, ...info.certificateAuthorities].filter((c) => c.missing).map((c) => c.name);
}
