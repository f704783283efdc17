import { describe, expect, it } from 'vitest';
import type { Bundle, Cluster } from '../model.js';
import { addonNeedsApply, initMakesCertificateKey, initNeeded, joinMaterialFrom, joinNeeded, waitsForReady } from './decide.js';

const cluster = (roles: string[], network = true) =>
  ({ hosts: roles.map((role, i) => ({ name: `h${i}`, role })), ...(network ? { network: { manifest: {} } } : {}) }) as unknown as Cluster;
const manifest = { name: 'addon', path: '/m.yml', sha256: 'a'.repeat(64), size: 1 } as Bundle;

describe('cluster decisions', () => {
  it('inits a host without admin.conf, joins one without kubelet.conf', () => {
    expect([initNeeded(false), initNeeded(true)]).toEqual([true, false]);
    expect([joinNeeded(false), joinNeeded(true)]).toEqual([true, false]);
  });

  it('makes a certificate key at init only when other control planes will join', () => {
    expect(initMakesCertificateKey(cluster(['control-plane', 'worker']))).toBe(false);
    expect(initMakesCertificateKey(cluster(['control-plane', 'control-plane', 'worker']))).toBe(true);
  });

  it("joins with init's material when it covers the join, and mints otherwise", () => {
    expect(joinMaterialFrom(undefined, false)).toBe('mint');
    expect(joinMaterialFrom({}, false)).toBe('init');
    expect(joinMaterialFrom({}, true)).toBe('mint');
    expect(joinMaterialFrom({ certificateKey: 'k' }, true)).toBe('init');
  });

  it('applies the add-on when its marker holds another sha256, and waits for Ready only with an add-on', () => {
    expect(addonNeedsApply('', manifest)).toBe(true);
    expect(addonNeedsApply(manifest.sha256, manifest)).toBe(false);
    expect(waitsForReady(cluster(['control-plane']), 1000)).toBe(true);
    expect(waitsForReady(cluster(['control-plane']), 0)).toBe(false);
    expect(waitsForReady(cluster(['control-plane'], false), 1000)).toBe(false);
  });
});
