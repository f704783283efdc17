// Where the harness keeps things on this machine. State lives on disk (not /tmp: light hosts
// mount their own tmpfs over /tmp), the cached root filesystem and artifacts in /var/cache.
import path from 'node:path';

export const STATE_DIR = process.env.KUBEFORGE_TESTHOSTS_STATE ?? '/var/lib/kubeforge-testhosts';
export const CACHE_DIR = process.env.KUBEFORGE_TESTHOSTS_CACHE ?? '/var/cache/kubeforge-testhosts';
export const FLEETS_DIR = path.join(STATE_DIR, 'fleets');

/**
 * All test traffic stays inside one fixed private /24 that nothing else on these machines
 * uses. Each fleet takes one /26 of it (a "slot"), with its own bridge, so a demo fleet and
 * a test fleet can be up at once without sharing anything.
 */
export const SUBNET_PREFIX = '10.77.0';
export const SLOTS = 4;
export const SLOT_SIZE = 64;

export function slotDir(slot: number): string {
  return path.join(FLEETS_DIR, `slot-${slot}`);
}

export function bridgeName(slot: number): string {
  return `kfbr${slot}`;
}

/** Address number n (1 = the bridge, 2.. = hosts) inside a slot's /26. */
export function slotAddress(slot: number, n: number): string {
  if (n < 1 || n > SLOT_SIZE - 2) throw new Error(`address ${n} is outside a /26`);
  return `${SUBNET_PREFIX}.${slot * SLOT_SIZE + n}`;
}

export const SLOT_PREFIX_LENGTH = 26;
