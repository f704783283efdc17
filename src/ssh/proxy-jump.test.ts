import { describe, expect, it } from 'vitest';
import { formatJump, parseProxyJump } from './proxy-jump.js';

describe('parseProxyJump', () => {
  it('reads OpenSSH forms: host, user@host, host:port, [v6]:port, ssh:// and chains', () => {
    expect(parseProxyJump('bastion')).toEqual([{ host: 'bastion' }]);
    expect(parseProxyJump('admin@10.0.0.1:2222')).toEqual([{ user: 'admin', host: '10.0.0.1', port: 2222 }]);
    expect(parseProxyJump('ssh://ops@[fd00::1]:22')).toEqual([{ user: 'ops', host: 'fd00::1', port: 22 }]);
    expect(parseProxyJump('a@outer.example.com, inner:2200')).toEqual([
      { user: 'a', host: 'outer.example.com' },
      { host: 'inner', port: 2200 },
    ]);
  });

  it('reads none (any case) as no bastion', () => {
    expect(parseProxyJump('none')).toEqual([]);
    expect(parseProxyJump('NONE')).toEqual([]);
  });

  it('names what is wrong with which hop', () => {
    expect(parseProxyJump('a@b:0')).toEqual({ problem: 'hop "a@b:0" has port "0", not a number from 1 to 65535' });
    expect(parseProxyJump('a,,b')).toEqual({ problem: 'hop "" is empty' });
    expect(parseProxyJump('fd00::1')).toEqual({ problem: expect.stringContaining('without brackets') });
    expect(parseProxyJump('b@d;rm -rf')).toEqual({ problem: expect.stringContaining('no valid host') });
    expect(parseProxyJump('')).toEqual({ problem: expect.stringContaining('empty') });
  });

  it('formats a hop as user@host:port', () => {
    expect(formatJump({ user: 'admin', host: '10.0.0.1', port: 22 })).toBe('admin@10.0.0.1:22');
    expect(formatJump({ user: 'admin', host: 'fd00::1', port: 2222 })).toBe('admin@[fd00::1]:2222');
  });
});
