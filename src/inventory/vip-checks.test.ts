import { describe, expect, it } from 'vitest';
import { runChecks } from './checks.js';
import type { Path } from './problem.js';
import { inventorySchema } from './schema.js';

const lineOf = (path: Path) => 100 + (typeof path[1] === 'number' ? path[1] : 0);
const host = (name: string, address: string, role = 'control-plane', extra: Record<string, unknown> = {}) => ({ name, address, role, ...extra });

function inventory(kubernetes: Record<string, unknown>) {
  return {
    cluster: { name: 'demo' },
    kubernetes: { version: '1.30.2', ...kubernetes },
    network: { manifest: 'bundles/kube-flannel.yml' },
    containerd: { bundle: 'bundles/containerd-1.7.20-linux-amd64.tar.gz' },
    hosts: [host('cp1', '10.0.0.10'), host('cp2', '10.0.0.11'), host('cp3', '192.168.1.12', 'control-plane', { internalAddress: '10.0.0.12' })],
  };
}

describe('kubernetes.controlPlaneVip', () => {
  it('takes the place of controlPlaneEndpoint: no warning about reaching the API server through the init host alone', () => {
    const result = runChecks(inventory({ controlPlaneVip: { address: '10.0.0.100', interface: 'eth0' } }), lineOf);
    expect(result.errors).toEqual([]);
    expect(result.warnings.map((w) => w.message).join('\n')).not.toMatch(/controlPlaneEndpoint/);
  });

  it('is refused together with an explicit controlPlaneEndpoint', () => {
    const result = runChecks(inventory({ controlPlaneVip: { address: '10.0.0.100', interface: 'eth0' }, controlPlaneEndpoint: 'lb.example.com:6443' }), lineOf);
    expect(result.errors).toHaveLength(1);
    expect(result.errors[0]).toMatchObject({ path: ['kubernetes', 'controlPlaneVip'] });
    expect(result.errors[0]!.message).toMatch(/together with kubernetes\.controlPlaneEndpoint/);
    expect(result.errors[0]!.hint).toMatch(/not both/);
  });

  it('is refused when it is a host\'s address or internal address, naming the host and its line', () => {
    const own = runChecks(inventory({ controlPlaneVip: { address: '10.0.0.11', interface: 'eth0' } }), lineOf);
    expect(own.errors.map((e) => e.message)).toEqual(['kubernetes.controlPlaneVip.address: 10.0.0.11 is the address of host "cp2" on line 101']);
    expect(own.errors[0]!.path).toEqual(['kubernetes', 'controlPlaneVip', 'address']);
    const internal = runChecks(inventory({ controlPlaneVip: { address: '10.0.0.12', interface: 'eth0' } }), lineOf);
    expect(internal.errors.map((e) => e.message)).toEqual(['kubernetes.controlPlaneVip.address: 10.0.0.12 is the internalAddress of host "cp3" on line 102']);
  });

  it('must be an IPv4 address and a plain interface name (schema)', () => {
    const parse = (vip: unknown) => inventorySchema.safeParse({ ...inventory({ controlPlaneVip: vip }) });
    expect(parse({ address: '10.0.0.100', interface: 'eth0' }).success).toBe(true);
    expect(parse({ address: '10.0.0.100', interface: 'eth0', image: 'registry.example.com/kube-vip:v0.8.9' }).success).toBe(true);
    const bad = (vip: unknown) => {
      const r = parse(vip);
      return r.success ? '' : r.error.issues.map((i) => i.message).join('; ');
    };
    expect(bad({ address: 'fd00::10', interface: 'eth0' })).toMatch(/not an IPv4 address/);
    expect(bad({ address: '10.0.0.100', interface: 'eth0; reboot' })).toMatch(/not a network interface name/);
    expect(bad({ address: '10.0.0.100', interface: 'a-very-long-interface-name' })).toMatch(/not a network interface name/);
    expect(bad({ address: '10.0.0.100' })).not.toBe('');
  });
});
