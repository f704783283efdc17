// Host addresses as the inventory writes them: IPv4, IPv6 or a DNS name, optionally with a port.
import { isIPv4, isIPv6 } from 'node:net';

export function isIP(text: string): boolean {
  return isIPv4(text) || isIPv6(text);
}

const HOSTNAME_LABEL = /^[A-Za-z0-9]([-A-Za-z0-9]{0,61}[A-Za-z0-9])?$/;

/**
 * An RFC 1123 host name. The last label may not be all digits (RFC 3696), so a mistyped IPv4
 * address such as 10.0.0.300 is rejected instead of being taken for a name.
 */
export function isHostname(text: string): boolean {
  if (text.length === 0 || text.length > 253) return false;
  const labels = text.split('.');
  if (!labels.every((label) => HOSTNAME_LABEL.test(label))) return false;
  return !/^\d+$/.test(labels[labels.length - 1]!);
}

export function isAddress(text: string): boolean {
  return isIP(text) || isHostname(text);
}

/** One spelling per address, so duplicates are found however they were written. */
export function canonicalAddress(text: string): string {
  if (isIPv6(text) && !text.includes('%')) return new URL(`http://[${text}]/`).hostname.slice(1, -1);
  return text.toLowerCase();
}

export interface HostPort {
  host: string;
  port?: number;
}

function parsePort(text: string): number | undefined {
  if (!/^\d{1,5}$/.test(text)) return undefined;
  const port = Number(text);
  return port >= 1 && port <= 65535 ? port : undefined;
}

/** "10.0.0.10:6443", "[fd00::1]:6443", "api.example.com", "fd00::1"; undefined when malformed. */
export function parseHostPort(text: string): HostPort | undefined {
  const bracketed = /^\[([^\]]+)\](?::(.*))?$/.exec(text);
  if (bracketed) {
    const host = bracketed[1]!;
    if (!isIPv6(host)) return undefined;
    if (bracketed[2] === undefined) return { host };
    const port = parsePort(bracketed[2]);
    return port === undefined ? undefined : { host, port };
  }
  if (isIPv6(text)) return { host: text };
  const colon = text.lastIndexOf(':');
  if (colon === -1) return isAddress(text) ? { host: text } : undefined;
  const host = text.slice(0, colon);
  const port = parsePort(text.slice(colon + 1));
  return port !== undefined && isAddress(host) ? { host, port } : undefined;
}

/** host:port, with IPv6 addresses in brackets as URLs and kubeadm expect. */
export function formatHostPort(host: string, port: number): string {
  return isIPv6(host) ? `[${host}]:${port}` : `${host}:${port}`;
}
