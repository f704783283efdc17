import { describe, expect, it } from 'vitest';
import {
  addressProblem,
  clusterNameProblem,
  envVarProblem,
  hostNameProblem,
  internalAddressProblem,
  parseTypedBundle,
  portProblem,
  sha256Problem,
  userProblem,
  versionProblem,
  type AddedHost,
} from './validate.js';

const added: AddedHost[] = [
  { name: 'cp1', address: '10.0.0.10', port: 22 },
  { name: 'w1', address: 'W1.example.com', port: 22, internalAddress: '10.0.0.11' },
  { name: 'w2', address: 'fd00::12', port: 2222 },
];

describe('answer checks', () => {
  it('cluster and host names are DNS-1123 labels; host names unique', () => {
    expect(clusterNameProblem('demo-1')).toBeUndefined();
    expect(clusterNameProblem('Demo')).toMatch(/^"Demo" is not a DNS-1123 label/);
    expect(hostNameProblem('w3', added)).toBeUndefined();
    expect(hostNameProblem('w1', added)).toBe('there is already a host named w1');
    expect(hostNameProblem('w_3', added)).toMatch(/Kubernetes uses it as the node name/);
  });

  it('versions are X.Y.Z within the supported range', () => {
    expect(versionProblem('kubernetes', '1.30.2')).toBeUndefined();
    expect(versionProblem('kubernetes', 'v1.30.2')).toBeUndefined();
    expect(versionProblem('kubernetes', '1.30')).toBe('"1.30" is not a full version X.Y.Z, such as 1.30.2');
    expect(versionProblem('kubernetes', '1.20.0')).toBe('Kubernetes 1.20.0 is not supported (kubeforge supports Kubernetes 1.28 to 1.35)');
    expect(versionProblem('containerd', '2.1.4')).toBeUndefined();
    expect(versionProblem('containerd', '1.5.0')).toMatch(/containerd 1\.5\.0 is not supported/);
  });

  it('addresses: IP, DNS name, optional port; the same address and port twice is a mistake', () => {
    expect(addressProblem('10.0.0.20', added, 22)).toBeUndefined();
    expect(addressProblem('10.0.0.10:2222', added, 22)).toBeUndefined();
    expect(addressProblem('10.0.0.10', added, 22)).toBe('10.0.0.10 port 22 is already host cp1');
    expect(addressProblem('w1.EXAMPLE.com', added, 22)).toBe('w1.EXAMPLE.com port 22 is already host w1');
    expect(addressProblem('[fd00:0::12]:2222', added, 22)).toBe('fd00:0::12 port 2222 is already host w2');
    expect(addressProblem('10.0.0.300', added, 22)).toMatch(/is not an IPv4 address, IPv6 address or DNS name/);
    expect(addressProblem('', added, 22)).toMatch(/is not an IPv4 address/);
  });

  it('node IPs are IPs no other host advertises', () => {
    expect(internalAddressProblem('10.0.0.30', added)).toBeUndefined();
    expect(internalAddressProblem('10.0.0.11', added)).toBe('10.0.0.11 is already the node address of host w1');
    expect(internalAddressProblem('10.0.0.10', added)).toBe('10.0.0.10 is already the node address of host cp1');
    expect(internalAddressProblem('node.example.com', added)).toBe('"node.example.com" is not an IPv4 or IPv6 address');
  });

  it('users, ports, variable names and checksums', () => {
    expect(userProblem('admin')).toBeUndefined();
    expect(userProblem('ad min')).toBe('"ad min" is not a user name');
    expect(portProblem('2222')).toBeUndefined();
    expect(portProblem('0')).toMatch(/not a port number/);
    expect(portProblem('22x')).toMatch(/not a port number/);
    expect(envVarProblem('KUBEFORGE_SUDO_PASSWORD')).toBeUndefined();
    expect(envVarProblem('1PASS')).toMatch(/not an environment variable name/);
    expect(sha256Problem('a'.repeat(64))).toBeUndefined();
    expect(sha256Problem('a'.repeat(63))).toBe('a SHA-256 checksum is 64 hex digits');
  });
});

describe('parseTypedBundle', () => {
  it('tells paths from URLs, and takes a digest written after the URL', () => {
    expect(parseTypedBundle(' ./containerd.tar.gz ')).toEqual({ path: './containerd.tar.gz' });
    expect(parseTypedBundle('https://example.com/c.tar.gz')).toEqual({ url: 'https://example.com/c.tar.gz' });
    expect(parseTypedBundle(`https://example.com/c.tar.gz@sha256:${'AB'.repeat(32)}`)).toEqual({
      url: 'https://example.com/c.tar.gz',
      sha256: 'ab'.repeat(32),
    });
  });

  it('refuses what cannot be fetched', () => {
    expect(parseTypedBundle('')).toBe('give a file path or an https:// URL');
    expect(parseTypedBundle('ftp://example.com/c.tar.gz')).toBe('"ftp://example.com/c.tar.gz" is not an http:// or https:// URL');
    expect(parseTypedBundle('https://')).toBe('"https://" is not an http:// or https:// URL');
  });
});
