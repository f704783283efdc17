import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import {
  FACTS_SCRIPT,
  bundleArchMismatch,
  bundleArchOf,
  describeFacts,
  parseFacts,
  parseOsRelease,
  unsupportedReasons,
  type HostFacts,
} from './facts.js';

const debian: HostFacts = {
  kernel: 'Linux',
  arch: 'x86_64',
  hostname: 'node-1',
  os: 'Debian GNU/Linux 12 (bookworm)',
  systemd: true,
  sudo: 'root',
  machineId: '0123abcd',
};

describe('parseFacts', () => {
  it('reads what the facts script prints', () => {
    const output = [
      'kernel=Linux',
      'arch=x86_64',
      'hostname=node-1',
      'systemd=yes',
      'sudo=root',
      'machine-id=0123abcd',
      '---os-release---',
      'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"',
      'NAME="Debian GNU/Linux"',
      'VERSION_ID="12"',
      'ID=debian',
      '',
    ].join('\n');
    expect(parseFacts(output)).toEqual(debian);
  });

  it('falls back to NAME VERSION_ID, and leaves out what the host does not have', () => {
    const output = 'kernel=Linux\narch=aarch64\nhostname=pi\nsystemd=no\nsudo=password\nmachine-id=\n---os-release---\nNAME=Alpine\nVERSION_ID=3.20.1\n';
    expect(parseFacts(output)).toEqual({ kernel: 'Linux', arch: 'aarch64', hostname: 'pi', os: 'Alpine 3.20.1', systemd: false, sudo: 'password' });
    expect(parseFacts('kernel=Linux\narch=x86_64\nhostname=x\nsystemd=yes\nsudo=nopasswd\n---os-release---\n')).not.toHaveProperty('os');
  });

  it('rejects output that is not the script’s (a shell printing a banner instead, say)', () => {
    expect(parseFacts('This account is currently not available.\n')).toBeUndefined();
    expect(parseFacts('kernel=Linux\narch=x86_64\nsudo=maybe\n')).toBeUndefined();
  });

  it('parses the output of the real script run on this machine', () => {
    const facts = parseFacts(execFileSync('/bin/sh', ['-c', FACTS_SCRIPT], { encoding: 'utf8' }));
    expect(facts).toBeDefined();
    expect(facts!.kernel).toBe(execFileSync('uname', ['-s'], { encoding: 'utf8' }).trim());
    expect(facts!.arch).toBe(execFileSync('uname', ['-m'], { encoding: 'utf8' }).trim());
  });
});

describe('parseOsRelease', () => {
  it('unquotes values as os-release(5) says and skips comments and junk', () => {
    const values = parseOsRelease(['# comment', 'NAME="A \\"quoted\\" \\$name"', "ID='single'", 'VERSION_ID=12', 'not a line', ''].join('\n'));
    expect([...values]).toEqual([
      ['NAME', 'A "quoted" $name'],
      ['ID', 'single'],
      ['VERSION_ID', '12'],
    ]);
  });
});

describe('unsupportedReasons', () => {
  it('accepts Linux on x86_64 and aarch64 with systemd', () => {
    expect(unsupportedReasons(debian, 'root')).toEqual([]);
    expect(unsupportedReasons({ ...debian, arch: 'aarch64', sudo: 'password' }, 'admin')).toEqual([]);
  });

  it('names each thing that is not supported', () => {
    expect(unsupportedReasons({ ...debian, kernel: 'FreeBSD', arch: 'armv7l', systemd: false, sudo: 'missing' }, 'admin')).toEqual([
      'runs FreeBSD; kubeforge supports Linux only',
      'unsupported architecture armv7l; kubeforge supports x86_64 and aarch64',
      'systemd is not running (no /run/systemd/system); kubeforge needs systemd to run containerd and the kubelet',
      'admin is not root and sudo is not installed; log in as root or install sudo',
    ]);
  });
});

describe('bundle architecture', () => {
  it('reads it from release tarball names', () => {
    expect(bundleArchOf('containerd-1.7.20-linux-amd64.tar.gz')).toBe('amd64');
    expect(bundleArchOf('containerd-static-2.1.4-linux-arm64.tar.gz')).toBe('arm64');
    expect(bundleArchOf('my-containerd.tgz')).toBeUndefined();
  });

  it('notices a bundle built for another architecture, and only then', () => {
    expect(bundleArchMismatch({ ...debian, arch: 'aarch64' }, 'containerd-1.7.20-linux-amd64.tar.gz', 'containerd')).toBe(
      'the containerd bundle containerd-1.7.20-linux-amd64.tar.gz is for amd64, this host is aarch64 (arm64)',
    );
    expect(bundleArchMismatch(debian, 'containerd-1.7.20-linux-amd64.tar.gz', 'containerd')).toBeUndefined();
    expect(bundleArchMismatch(debian, 'containerd.tar.gz', 'containerd')).toBeUndefined();
  });
});

describe('describeFacts', () => {
  it('says in one line what was found', () => {
    expect(describeFacts(debian, 'root')).toBe('hostname node-1, Debian GNU/Linux 12 (bookworm), x86_64, systemd, logs in as root');
    expect(describeFacts({ ...debian, hostname: '', os: undefined, systemd: false, sudo: 'nopasswd' }, 'admin')).toBe(
      'hostname (none), Linux (no /etc/os-release), x86_64, no systemd, admin uses sudo without a password',
    );
  });
});
