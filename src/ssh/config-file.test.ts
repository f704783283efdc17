import { describe, expect, it } from 'vitest';
import { parseSshConfig } from './config-file.js';

describe('parseSshConfig', () => {
  it('keeps every directive with its line, in blocks, keywords in lower case', () => {
    const text = [
      '# a comment', // 1
      'User everyone', // 2
      '', // 3
      'Host web-* !web-9 db', // 4
      '  HostName=%h.internal', // 5
      '  IdentityFile "~/.ssh/my key"', // 6
      '', // 7
      '# another', // 8
      'Match host 10.0.0.* !user root', // 9
      '\tPort 2222', // 10
      'Host a,b', // 11
      '  UserKnownHostsFile ~/.ssh/kh1 ~/.ssh/kh2', // 12
    ].join('\n');
    const config = parseSshConfig(text, '/home/me/.ssh/config');
    expect(config.file).toBe('/home/me/.ssh/config');
    expect(config.blocks).toEqual([
      { kind: 'global', line: 1, directives: [{ keyword: 'user', args: ['everyone'], line: 2 }] },
      {
        kind: 'host',
        line: 4,
        patterns: ['web-*', '!web-9', 'db'],
        directives: [
          { keyword: 'hostname', args: ['%h.internal'], line: 5 },
          { keyword: 'identityfile', args: ['~/.ssh/my key'], line: 6 },
        ],
      },
      {
        kind: 'match',
        line: 9,
        criteria: [
          { negated: false, keyword: 'host', arg: '10.0.0.*' },
          { negated: true, keyword: 'user', arg: 'root' },
        ],
        directives: [{ keyword: 'port', args: ['2222'], line: 10 }],
      },
      { kind: 'host', line: 11, patterns: ['a', 'b'], directives: [{ keyword: 'userknownhostsfile', args: ['~/.ssh/kh1', '~/.ssh/kh2'], line: 12 }] },
    ]);
  });

  it('reads criteria without arguments and CRLF files', () => {
    const config = parseSshConfig('Match all\r\n  User x\r\nMatch canonical host y\r\n  Port 1\r\n', 'f');
    expect(config.blocks.slice(1)).toEqual([
      { kind: 'match', line: 1, criteria: [{ negated: false, keyword: 'all' }], directives: [{ keyword: 'user', args: ['x'], line: 2 }] },
      {
        kind: 'match',
        line: 3,
        criteria: [
          { negated: false, keyword: 'canonical' },
          { negated: false, keyword: 'host', arg: 'y' },
        ],
        directives: [{ keyword: 'port', args: ['1'], line: 4 }],
      },
    ]);
  });

  it('reads an empty file as no blocks', () => {
    expect(parseSshConfig('', 'f').blocks).toEqual([{ kind: 'global', line: 1, directives: [] }]);
  });
});
