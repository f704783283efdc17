import { describe, expect, it } from 'vitest';
import type { Host } from '../model.js';
import { sshSourceLines } from './ssh-sources.js';

const ssh = { user: 'admin', port: 22, knownHostsFile: '/kh', acceptNewHostKeys: false, connectTimeoutMs: 10_000, keepaliveIntervalMs: 5000 };

describe('sshSourceLines', () => {
  it('lists each setting with its source, and the bastions a host is reached through', () => {
    const host: Host = {
      name: 'cp1',
      address: '10.0.0.10',
      role: 'control-plane',
      labels: {},
      internalAddress: '10.0.0.10',
      ssh: { ...ssh, proxyJump: [{ label: 'jump@b:22', address: '10.0.0.1', ssh: { ...ssh, user: 'jump', keyFile: '/k' } }] },
      sshSources: {
        proxyJump: { value: 'jump@b:22', from: 'ssh config /c:7' },
        address: { value: '10.0.0.10', from: 'ssh config /c:2' },
        user: { value: 'admin', from: 'inventory ssh.user' },
      },
    };
    expect(sshSourceLines([host])).toEqual([
      'cp1: ssh settings',
      '  address    10.0.0.10  (ssh config /c:2)',
      '  user       admin  (inventory ssh.user)',
      '  proxyJump  jump@b:22  (ssh config /c:7)',
      '  via bastion jump@b:22: dials 10.0.0.1, user jump, key /k, known_hosts /kh',
    ]);
  });
});
