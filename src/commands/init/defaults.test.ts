import { describe, expect, it } from 'vitest';
import {
  defaultRole,
  inventoryPathText,
  nameFromHostname,
  suggestHostName,
  supportedKubernetesMinors,
  tildePath,
  typedPathToAbsolute,
  versionFromBundle,
} from './defaults.js';

describe('defaults', () => {
  it('makes the first host the control plane and the rest workers', () => {
    expect(defaultRole([])).toBe('control-plane');
    expect(defaultRole(['control-plane'])).toBe('worker');
    // The first host was made a worker by hand: the next one still defaults to control plane.
    expect(defaultRole(['worker'])).toBe('control-plane');
  });

  it('turns a hostname into a node name', () => {
    expect(nameFromHostname('Node-1.example.com')).toBe('node-1');
    expect(nameFromHostname('web_server 2')).toBe('web-server-2');
    expect(nameFromHostname('---')).toBeUndefined();
    expect(nameFromHostname('localhost')).toBeUndefined();
    expect(nameFromHostname(`${'a'.repeat(62)}-b`)).toBe('a'.repeat(62));
  });

  it('suggests the host’s own name, else the DNS name, else cpN/workerN — never a name taken', () => {
    expect(suggestHostName({ hostname: 'full-1', address: '10.0.0.2', role: 'control-plane', taken: [] })).toBe('full-1');
    expect(suggestHostName({ hostname: 'debian', address: '10.0.0.3', role: 'worker', taken: ['debian'] })).toBe('debian-2');
    expect(suggestHostName({ hostname: 'debian', address: '10.0.0.4', role: 'worker', taken: ['debian', 'debian-2'] })).toBe('debian-3');
    expect(suggestHostName({ address: 'w7.example.com', role: 'worker', taken: [] })).toBe('w7');
    expect(suggestHostName({ address: '10.0.0.5', role: 'control-plane', taken: [] })).toBe('cp1');
    expect(suggestHostName({ address: '10.0.0.6', role: 'worker', taken: ['cp1', 'worker1'] })).toBe('worker2');
  });

  it('offers the supported Kubernetes minor versions, newest first', () => {
    const minors = supportedKubernetesMinors();
    expect(minors[0]).toBe('1.35');
    expect(minors.at(-1)).toBe('1.28');
    expect(minors).toHaveLength(8);
  });

  it('reads versions from bundle names, local or downloaded', () => {
    expect(versionFromBundle('kubernetes', './b/kubernetes-1.30.2-linux-amd64.tar.gz')).toBe('1.30.2');
    expect(versionFromBundle('containerd', 'https://example.com/v1.7.20/containerd-1.7.20-linux-amd64.tar.gz')).toBe('1.7.20');
    expect(versionFromBundle('kubernetes', 'kubernetes-standin-1.30.2-linux-amd64.tar.gz')).toBeUndefined();
    expect(versionFromBundle('kubernetes', undefined)).toBeUndefined();
  });

  it('writes paths the way the inventory reads them', () => {
    const ctx = { cwd: '/home/me/work', inventoryDir: '/home/me/work/clusters', home: '/home/me' };
    expect(typedPathToAbsolute('../b.tar', ctx)).toBe('/home/me/b.tar');
    // Below the inventory: relative to it (typed relative to where the command runs).
    expect(inventoryPathText('clusters/bundles/c.tar.gz', ctx)).toBe('./bundles/c.tar.gz');
    // Elsewhere in home: ~/…; elsewhere: absolute. Never ../
    expect(inventoryPathText('bundles/c.tar.gz', ctx)).toBe('~/work/bundles/c.tar.gz');
    expect(inventoryPathText('/srv/c.tar.gz', ctx)).toBe('/srv/c.tar.gz');
    expect(inventoryPathText('~/.ssh/id_ed25519', ctx)).toBe('~/.ssh/id_ed25519');
    expect(tildePath('/home/me/.ssh/id_rsa', '/home/me')).toBe('~/.ssh/id_rsa');
    expect(tildePath('/etc/ssh/key', '/home/me')).toBe('/etc/ssh/key');
  });
});
