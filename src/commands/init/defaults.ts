// The answers the wizard offers before the user types anything: pure functions of what is known
// so far, so the same defaults serve the prompts and `--yes`.
import { isAbsolute, relative, resolve, sep } from 'node:path';
import type { Role } from '../../model.js';
import { isIP } from '../../inventory/address.js';
import { DNS1123_LABEL } from '../../inventory/k8s-names.js';
import { expandHome } from '../../inventory/paths.js';
import { unsupportedReason, versionInFileName, type Component } from '../../inventory/versions.js';

export const DEFAULT_CLUSTER_NAME = 'kubeforge';

/** The first host is the control plane (the init host); every later one a worker. */
export function defaultRole(rolesSoFar: readonly Role[]): Role {
  return rolesSoFar.includes('control-plane') ? 'worker' : 'control-plane';
}

/** "Node-1.example.com" → "node-1"; undefined when nothing usable is left. */
export function nameFromHostname(hostname: string): string | undefined {
  const first = hostname.trim().split('.')[0] ?? '';
  const cleaned = first
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 63)
    .replace(/-+$/, '');
  return DNS1123_LABEL.test(cleaned) && cleaned !== 'localhost' ? cleaned : undefined;
}

/**
 * A node name for a new host: the host's own hostname when the probe got one, else the DNS
 * name's first label, else cp1/worker1…; made unique against the names taken.
 */
export function suggestHostName(opts: { hostname?: string; address: string; role: Role; taken: readonly string[] }): string {
  const fromHost = opts.hostname ? nameFromHostname(opts.hostname) : undefined;
  const fromAddress = isIP(opts.address) ? undefined : nameFromHostname(opts.address);
  const base = fromHost ?? fromAddress;
  const taken = new Set(opts.taken);
  if (base && !taken.has(base)) return base;
  const stem = base ? `${base.slice(0, 59)}-` : opts.role === 'control-plane' ? 'cp' : 'worker';
  for (let n = base ? 2 : 1; ; n++) if (!taken.has(`${stem}${n}`)) return `${stem}${n}`;
}

/** Supported Kubernetes minor versions, newest first: "1.35", "1.34", … */
export function supportedKubernetesMinors(): string[] {
  const minors: string[] = [];
  for (let minor = 0; minor < 100; minor++) {
    if (!unsupportedReason('kubernetes', { major: 1, minor, patch: 0, text: `1.${minor}.0` })) minors.push(`1.${minor}`);
  }
  return minors.reverse();
}

/** The version a bundle's file name carries ("kubernetes-1.30.2-…", "containerd-1.7.20-…"). */
export function versionFromBundle(component: Component, pathOrUrl: string | undefined): string | undefined {
  if (!pathOrUrl) return undefined;
  const name = /^https?:\/\//i.test(pathOrUrl) ? new URL(pathOrUrl).pathname.split('/').pop() ?? '' : pathOrUrl.split(/[\\/]/).pop() ?? '';
  return versionInFileName(component, name)?.text;
}

export interface PathContext {
  /** Where paths typed at the prompt are relative to. */
  cwd: string;
  /** The inventory's directory: relative paths in the inventory start there. */
  inventoryDir: string;
  home: string;
}

/** Absolute path of a file the user typed ("~/x", "./x", "/x"). */
export function typedPathToAbsolute(typed: string, ctx: PathContext): string {
  return resolve(ctx.cwd, expandHome(typed.trim(), ctx.home));
}

/**
 * How the inventory should name a file the user typed: "~/…" stays as typed; a file in or below
 * the inventory's directory becomes "./…"; one elsewhere in the home directory "~/…"; anything
 * else absolute. Never "../…": the inventory keeps working wherever it is run from.
 */
export function inventoryPathText(typed: string, ctx: PathContext): string {
  const text = typed.trim();
  if (text === '~' || text.startsWith('~/')) return text;
  const absolute = typedPathToAbsolute(text, ctx);
  const below = (dir: string) => {
    const rel = relative(dir, absolute);
    return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel) ? rel : undefined;
  };
  const inInventoryDir = below(ctx.inventoryDir);
  if (inInventoryDir) return `.${sep}${inInventoryDir}`;
  const inHome = below(ctx.home);
  return inHome ? `~/${inHome}` : absolute;
}

/** A path under the home directory as "~/…", for showing and writing key files found in ~/.ssh. */
export function tildePath(absolute: string, home: string): string {
  const rel = relative(home, absolute);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel) ? `~/${rel}` : absolute;
}
