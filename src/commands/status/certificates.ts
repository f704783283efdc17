// `kubeforge status`: each control plane's certificate expiry, from `kubeadm certs check-expiration`
// on the host, with a warning for anything that expires within 30 days.
import { expiringSoon, firstExpiry, missingCertificates, EXPIRY_WARNING_DAYS, type ExpirationInfo, type ExpiryWarning } from '../../cluster/certs-expiry.js';
import { readCertExpiry } from '../../cluster/certs.js';
import { Redactor } from '../../cluster/secrets.js';
import { loadInventory } from '../../inventory/index.js';
import { sshConnector } from '../../ssh/remote.js';
import { shellQuote } from '../../ssh/quote.js';

export interface HostCertificates {
  host: string;
  /** What kubeadm reported, or undefined when it could not be asked (see error). */
  info?: ExpirationInfo;
  error?: string;
  /** Certificates and CAs expiring within EXPIRY_WARNING_DAYS (or expired), soonest first. */
  expiringSoon: ExpiryWarning[];
  missing: string[];
}

/** Asks every control plane at once; a host that cannot be asked says why, the others still answer. */
export async function liveCertificates(inventory: string, now: () => Date = () => new Date()): Promise<HostCertificates[]> {
  const { cluster } = await loadInventory(inventory);
  const connect = sshConnector();
  const redact = new Redactor().redact;
  const signal = AbortSignal.timeout(60_000);
  return Promise.all(
    cluster.hosts
      .filter((h) => h.role === 'control-plane')
      .map(async (host): Promise<HostCertificates> => {
        try {
          const remote = await connect(host, signal);
          try {
            const info = await readCertExpiry(remote, cluster.kubernetes.version, { signal, redact });
            return { host: host.name, info, expiringSoon: expiringSoon(info, now()), missing: missingCertificates(info) };
          } finally {
            remote.close();
          }
        } catch (err) {
          return { host: host.name, error: redact((err as Error).message), expiringSoon: [], missing: [] };
        }
      }),
  );
}

function day(d: Date): string {
  return d.toISOString().replace(/:\d\d\.\d+Z$/, ' UTC').replace('T', ' ');
}

function left(d: Date, now: Date): string {
  const days = Math.floor((d.getTime() - now.getTime()) / 86_400_000);
  return days < 0 ? `expired ${-days} d ago` : `${days} d`;
}

/** The table and its warnings, as `status` prints them. */
export function certificatesText(hosts: HostCertificates[], inventory: string, now: Date = new Date()): string {
  const rows = hosts.map((h) => {
    if (!h.info) return [h.host, 'cannot ask kubeadm', '', h.error ?? ''];
    const first = firstExpiry(h.info);
    const ca = h.info.certificateAuthorities.filter((c) => c.expires).sort((a, b) => a.expires!.getTime() - b.expires!.getTime())[0];
    return [
      h.host,
      first?.expires ? `${day(first.expires)} (${left(first.expires, now)}, ${first.name})` : 'none',
      ca?.expires ? `${day(ca.expires)} (${left(ca.expires, now)}, ${ca.name})` : 'none',
      h.missing.length ? `missing: ${h.missing.join(', ')}` : '',
    ];
  });
  const header = ['CONTROL PLANE', 'CERTIFICATES EXPIRE', 'CA EXPIRES', 'NOTE'];
  const widths = header.map((t, i) => Math.max(t.length, ...rows.map((r) => r[i]!.length)));
  const lines = [header, ...rows].map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd());
  const warnings = hosts.flatMap((h) =>
    h.expiringSoon.map((w) =>
      `warning: ${h.host}: ${w.authority ? 'certificate authority' : 'certificate'} ${w.name} ${w.days < 0 ? 'has expired' : `expires in ${w.days} days`} (${day(w.expires)}, under ${EXPIRY_WARNING_DAYS} days)`,
    ),
  );
  if (warnings.length > 0) {
    const renewable = hosts.some((h) => h.expiringSoon.some((w) => !w.authority));
    lines.push('', ...warnings);
    if (renewable) lines.push(`  renew them: kubeforge certs renew -i ${shellQuote(inventory)}`);
  }
  return lines.join('\n');
}
