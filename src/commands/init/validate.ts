// Checks on single answers, as the prompts run them while the user types: each returns why the
// answer is wrong, or undefined when it is fine. The same rules as the inventory loader's, so an
// answer accepted here is never rejected by `kubeforge up`.
import { canonicalAddress, isIP, parseHostPort } from '../../inventory/address.js';
import { DNS1123_LABEL, DNS1123_LABEL_RULE } from '../../inventory/k8s-names.js';
import { EXACT_VERSION, parseExactVersion, unsupportedReason, type Component } from '../../inventory/versions.js';

/** What the checks need to know about the hosts already added. */
export interface AddedHost {
  name: string;
  address: string;
  port: number;
  internalAddress?: string;
}

export function clusterNameProblem(text: string): string | undefined {
  return DNS1123_LABEL.test(text) ? undefined : `"${text}" is not ${DNS1123_LABEL_RULE}`;
}

export function versionProblem(component: Component, text: string): string | undefined {
  const version = EXACT_VERSION.test(text.trim()) ? parseExactVersion(text.trim()) : undefined;
  if (!version) return `"${text}" is not a full version X.Y.Z, such as ${component === 'kubernetes' ? '1.30.2' : '1.7.20'}`;
  return unsupportedReason(component, version);
}

/** An address, optionally with :port ([IPv6]:port), that no added host has with the same port. */
export function addressProblem(text: string, added: readonly AddedHost[], defaultPort: number): string | undefined {
  const parsed = parseHostPort(text.trim());
  if (!parsed) return `"${text}" is not an IPv4 address, IPv6 address or DNS name (optionally with :port)`;
  const port = parsed.port ?? defaultPort;
  const same = added.find((h) => canonicalAddress(h.address) === canonicalAddress(parsed.host) && h.port === port);
  return same ? `${parsed.host} port ${port} is already host ${same.name}` : undefined;
}

export function hostNameProblem(text: string, added: readonly AddedHost[]): string | undefined {
  if (!DNS1123_LABEL.test(text)) return `"${text}" is not ${DNS1123_LABEL_RULE} (Kubernetes uses it as the node name)`;
  return added.some((h) => h.name === text) ? `there is already a host named ${text}` : undefined;
}

/** The IP the node advertises: an IP, and not one another host advertises. */
export function internalAddressProblem(text: string, added: readonly AddedHost[]): string | undefined {
  if (!isIP(text)) return `"${text}" is not an IPv4 or IPv6 address`;
  const same = added.find((h) => canonicalAddress(h.internalAddress ?? h.address) === canonicalAddress(text));
  return same ? `${text} is already the node address of host ${same.name}` : undefined;
}

export function userProblem(text: string): string | undefined {
  return /^[A-Za-z_][A-Za-z0-9_.-]*$/.test(text) ? undefined : `"${text}" is not a user name`;
}

export function portProblem(text: string): string | undefined {
  const port = Number(text);
  return /^\d+$/.test(text) && port >= 1 && port <= 65535 ? undefined : `"${text}" is not a port number (1 to 65535)`;
}

export function envVarProblem(text: string): string | undefined {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(text) ? undefined : `"${text}" is not an environment variable name (letters, digits and _)`;
}

export function sha256Problem(text: string): string | undefined {
  return /^[0-9a-fA-F]{64}$/.test(text.trim()) ? undefined : 'a SHA-256 checksum is 64 hex digits';
}

/** A bundle as typed: a local path, or an http(s) URL with its checksum given now or asked next. */
export type TypedBundle = { path: string } | { url: string; sha256?: string };

const URL_WITH_DIGEST = /^(.+)@sha256:([0-9a-fA-F]{64})$/;

/** "PATH", "https://…" or "https://…@sha256:HEX" (the digest form image references use). */
export function parseTypedBundle(text: string): TypedBundle | string {
  const trimmed = text.trim();
  if (trimmed === '') return 'give a file path or an https:// URL';
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed)) return { path: trimmed };
  const digest = URL_WITH_DIGEST.exec(trimmed);
  const url = digest ? digest[1]! : trimmed;
  if (!/^https?:\/\//i.test(url) || !URL.canParse(url)) return `"${url}" is not an http:// or https:// URL`;
  return digest ? { url, sha256: digest[2]!.toLowerCase() } : { url };
}
