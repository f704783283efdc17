import { describe, expect, it } from 'vitest';
import { parseSshConfig } from '../ssh/config-file.js';
import { describeSource, effectiveSsh, expandTokens, type ExplicitSsh } from './effective-ssh.js';
import { resolveUserPath } from './paths.js';

const HOME = '/home/me';
const CONFIG = '/home/me/.ssh/config';

function explicit(values: ExplicitSsh['values'], base: (string | number)[] = ['ssh']): ExplicitSsh {
  const origin: ExplicitSsh['origin'] = {};
  for (const key of Object.keys(values) as (keyof ExplicitSsh['values'])[]) origin[key] = [...base, key];
  return { values, origin };
}

function effective(name: string, inventory: ExplicitSsh, configText?: string, fallback?: ExplicitSsh) {
  return effectiveSsh({
    name,
    namePath: ['hosts', 0, 'address'],
    explicit: inventory,
    ...(fallback ? { fallback } : {}),
    ...(configText !== undefined ? { config: parseSshConfig(configText, CONFIG) } : {}),
    home: HOME,
    inventoryPath: (p) => resolveUserPath(p, '/work/inv', HOME),
    localUser: 'me',
  });
}

const shown = (r: ReturnType<typeof effective>) =>
  Object.fromEntries(Object.entries(r.settings).map(([k, v]) => [k, `${JSON.stringify(v.value)} from ${describeSource(v.source)}`]));

describe('effectiveSsh', () => {
  it('without an ssh config: inventory values, then defaults, each saying where it came from', () => {
    const r = effective('10.0.0.5', explicit({ user: 'ops', keyFile: 'keys/id' }));
    expect(shown(r)).toEqual({
      address: '"10.0.0.5" from inventory hosts[0].address',
      user: '"ops" from inventory ssh.user',
      port: '22 from default',
      keyFile: '"/work/inv/keys/id" from inventory ssh.keyFile',
      agent: 'true from default',
      knownHostsFile: '"/home/me/.ssh/known_hosts" from default',
      acceptNewHostKeys: 'false from default',
      connectTimeoutMs: '10000 from default',
      keepaliveIntervalMs: '5000 from default',
      proxyJump: '[] from default',
    });
    expect(r.errors).toEqual([]);
  });

  it('the ssh config fills what the inventory leaves out, with its file:line; an alias resolves through HostName', () => {
    const config = [
      'Host cp1', //
      '  HostName 10.0.0.10',
      '  User admin',
      '  Port 2222',
      '  IdentityFile ~/.ssh/%h_%r',
      '  IdentitiesOnly yes',
      '  ProxyJump jump@bastion:22',
      '  UserKnownHostsFile %d/.ssh/kh_cluster',
      '  ConnectTimeout 4',
      '  ServerAliveInterval 15',
    ].join('\n');
    const r = effective('cp1', explicit({}), config);
    expect(shown(r)).toEqual({
      address: `"10.0.0.10" from ssh config ${CONFIG}:2`,
      user: `"admin" from ssh config ${CONFIG}:3`,
      port: `2222 from ssh config ${CONFIG}:4`,
      keyFile: `"/home/me/.ssh/10.0.0.10_admin" from ssh config ${CONFIG}:5`,
      agent: `false from ssh config ${CONFIG}:6`,
      knownHostsFile: `"/home/me/.ssh/kh_cluster" from ssh config ${CONFIG}:8`,
      acceptNewHostKeys: 'false from default',
      connectTimeoutMs: `4000 from ssh config ${CONFIG}:9`,
      keepaliveIntervalMs: `15000 from ssh config ${CONFIG}:10`,
      proxyJump: `[{"host":"bastion","user":"jump","port":22}] from ssh config ${CONFIG}:7`,
    });
  });

  it('what the inventory writes explicitly wins over the ssh config; the host layer is what it is given', () => {
    const config = 'Host *\n  User cfg\n  Port 2222\n  IdentityFile ~/.ssh/cfg\n  ProxyJump cfg-bastion\n  ConnectTimeout 3\n';
    const host = explicit({ user: 'hostuser', proxyJump: 'none' }, ['hosts', 0, 'ssh']);
    const r = effective('10.0.0.5', { values: { ...host.values, keyFile: 'k' }, origin: { ...host.origin, keyFile: ['ssh', 'keyFile'] } }, config);
    expect(shown(r)).toMatchObject({
      user: '"hostuser" from inventory hosts[0].ssh.user',
      port: `2222 from ssh config ${CONFIG}:3`,
      keyFile: '"/work/inv/k" from inventory ssh.keyFile',
      proxyJump: '[] from inventory hosts[0].ssh.proxyJump',
      connectTimeoutMs: `3000 from ssh config ${CONFIG}:6`,
    });
  });

  it('a fallback layer (a bastion falls back to the top-level ssh) comes after the ssh config, before defaults', () => {
    const global = explicit({ user: 'root', keyFile: 'keys/id', connectTimeout: '20s' });
    const config = 'Host bastion\n  User jumper\n';
    const r = effective('bastion', explicit({}), config, global);
    expect(shown(r)).toMatchObject({
      user: `"jumper" from ssh config ${CONFIG}:2`,
      keyFile: '"/work/inv/keys/id" from inventory ssh.keyFile',
      connectTimeoutMs: '20000 from inventory ssh.connectTimeout',
      port: '22 from default',
    });
  });

  it('IdentitiesOnly without any key file leaves the agent on (it would have nothing to offer otherwise)', () => {
    expect(effective('h', explicit({}), 'Host *\n  IdentitiesOnly yes\n').settings.agent.value).toBe(true);
  });

  it('UserKnownHostsFile none is not a file: the next source decides', () => {
    expect(effective('h', explicit({}), 'Host *\n  UserKnownHostsFile none\n').settings.knownHostsFile.value).toBe('/home/me/.ssh/known_hosts');
  });

  it('reports bad config values at their line and falls back past them', () => {
    const r = effective('h', explicit({}), 'Host h\n  Port 99999\n  ConnectTimeout soon\n  ProxyJump a@b:x\n  HostName bad_name!\n');
    expect(r.errors).toEqual([
      { line: 5, message: 'HostName "bad_name!" (for h) is not an IP address or DNS name' },
      { line: 2, message: 'Port "99999" is not a port number (1 to 65535)' },
      { line: 3, message: 'ConnectTimeout "soon" is not a number of seconds (at least 1)' },
      { line: 4, message: 'ProxyJump hop "a@b:x" has port "x", not a number from 1 to 65535' },
    ]);
    expect(r.settings.port.value).toBe(22);
  });
});

describe('expandTokens', () => {
  it('expands the ssh_config TOKENS kubeforge knows and leaves the others', () => {
    const values = { home: '/h', host: '10.0.0.1', name: 'cp1', user: 'admin', localUser: 'me', port: 22 };
    expect(expandTokens('%d/.ssh/%n-%h-%r-%u-%p-%%-%C', values)).toBe('/h/.ssh/cp1-10.0.0.1-admin-me-22-%-%C');
  });
});
