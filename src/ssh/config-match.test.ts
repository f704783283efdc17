import { describe, expect, it } from 'vitest';
import { parseSshConfig } from './config-file.js';
import { lookupHost, patternListMatches } from './config-match.js';

const lookup = (text: string, host: string, more: { user?: string; localUser?: string } = {}) => {
  const found = lookupHost(parseSshConfig(text, '/c'), { host, localUser: more.localUser ?? 'me', ...(more.user ? { user: more.user } : {}) });
  return { ...found, get: (k: string) => found.values.get(k) };
};

describe('patternListMatches (OpenSSH match_pattern_list)', () => {
  it('matches globs case-insensitively; a matching negation wins over any positive', () => {
    expect(patternListMatches(['web-*'], 'WEB-1')).toBe(true);
    expect(patternListMatches(['web-?'], 'web-10')).toBe(false);
    expect(patternListMatches(['*', '!web-9'], 'web-9')).toBe(false);
    expect(patternListMatches(['!web-9', '*'], 'web-1')).toBe(true);
    // A negation alone matches nothing: there must be a positive match.
    expect(patternListMatches(['!web-9'], 'web-1')).toBe(false);
    expect(patternListMatches(['10.0.0.*'], '10.0.0.7')).toBe(true);
    expect(patternListMatches([], 'x')).toBe(false);
  });
});

describe('lookupHost', () => {
  it('takes the first value obtained for each keyword, in file order', () => {
    const text = ['Host web-1', '  User first', '  Port 2200', 'Host web-*', '  User second', '  HostName 10.0.0.%h', 'Host *', '  User last', '  ConnectTimeout 7'].join('\n');
    const found = lookup(text, 'web-1');
    expect(found.get('user')).toEqual({ args: ['first'], line: 2 });
    expect(found.get('port')).toEqual({ args: ['2200'], line: 3 });
    expect(found.get('hostname')).toEqual({ args: ['10.0.0.%h'], line: 6 });
    expect(found.get('connecttimeout')).toEqual({ args: ['7'], line: 9 });
    expect(lookup(text, 'db').get('user')).toEqual({ args: ['last'], line: 8 });
  });

  it('applies global directives (before any Host) to every host, first', () => {
    const found = lookup('User top\nHost x\n  User later\n', 'x');
    expect(found.get('user')).toEqual({ args: ['top'], line: 1 });
  });

  it('skips a Host block whose negated pattern matches', () => {
    const text = 'Host * !bastion\n  ProxyJump bastion\nHost *\n  User u\n';
    expect(lookup(text, 'node1').get('proxyjump')).toEqual({ args: ['bastion'], line: 2 });
    expect(lookup(text, 'bastion').get('proxyjump')).toBeUndefined();
    expect(lookup(text, 'bastion').get('user')?.args).toEqual(['u']);
  });

  it('collects every IdentityFile that applies, in order', () => {
    const found = lookup('Host a\n  IdentityFile ~/.ssh/a\nHost *\n  IdentityFile ~/.ssh/all\n', 'a');
    expect(found.identityFiles).toEqual([
      { args: ['~/.ssh/a'], line: 2 },
      { args: ['~/.ssh/all'], line: 4 },
    ]);
  });

  it('matches Host against the name as written, not HostName; Match host against HostName, originalhost against the name', () => {
    const text = ['Host alias', '  HostName 10.1.1.1', 'Host 10.1.1.1', '  User by-address', 'Match host 10.1.1.*', '  Port 2222', 'Match originalhost alias', '  IdentitiesOnly yes'].join('\n');
    const found = lookup(text, 'alias');
    expect(found.get('user')).toBeUndefined();
    expect(found.get('port')?.args).toEqual(['2222']);
    expect(found.get('identitiesonly')?.args).toEqual(['yes']);
  });

  it('Match user sees the inventory user, else a User obtained so far, else the local user; negated criteria', () => {
    const text = ['Match user admin', '  Port 1', 'Match !user admin', '  Port 2', 'Match localuser me', '  ConnectTimeout 3'].join('\n');
    expect(lookup(text, 'h', { user: 'admin' }).get('port')?.args).toEqual(['1']);
    expect(lookup(text, 'h').get('port')?.args).toEqual(['2']);
    expect(lookup(`Host h\n  User admin\n${text}`, 'h').get('port')?.args).toEqual(['1']);
    expect(lookup(text, 'h').get('connecttimeout')?.args).toEqual(['3']);
    expect(lookup(text, 'h', { localUser: 'other' }).get('connecttimeout')).toBeUndefined();
  });

  it('all criteria of a Match must hold', () => {
    const text = 'Match host web-* user deploy\n  Port 9\n';
    expect(lookup(text, 'web-1', { user: 'deploy' }).get('port')?.args).toEqual(['9']);
    expect(lookup(text, 'web-1', { user: 'root' }).get('port')).toBeUndefined();
    expect(lookup('Match all\n  Port 8\n', 'anything').get('port')?.args).toEqual(['8']);
  });

  it('never runs Match exec: the block is skipped, with a warning at its line', () => {
    const found = lookup('Host *\n  User u\nMatch exec "touch /tmp/pwned"\n  Port 1\n', 'h');
    expect(found.get('port')).toBeUndefined();
    expect(found.warnings).toEqual([{ line: 3, message: expect.stringMatching(/Match exec is not evaluated/) }]);
  });
});
