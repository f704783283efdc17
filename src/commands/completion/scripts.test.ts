// The scripts for a small program of their own, run by the shells themselves: a command with
// its own commands (`certs renew`), options and values. test/e2e/completion.test.ts runs the
// real program's scripts, host names included, against the built CLI.
import { execFileSync, spawnSync } from 'node:child_process';
import { Command } from 'commander';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { bashScript } from './bash.js';
import { fishScript } from './fish.js';
import { programSpec } from './spec.js';
import { zshScript } from './zsh.js';

const program = new Command('kubeforge');
program.command('up').option('-i, --inventory <file>', 'inventory file').option('--relay <on|off>', 'relay').option('--json', 'as JSON');
const certs = program.command('certs').description('certificates');
certs.command('renew').description('renew them').option('-i, --inventory <file>', 'inventory file').option('-y, --yes', "don't ask");
certs.command('check').description('check them').option('--days <n>', 'warn below this many days');
program.command('__complete <what>', { hidden: true });
const spec = programSpec(program);

const dir = mkdtempSync(join(tmpdir(), 'kf-completion-unit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function installed(shell: string): boolean {
  try {
    execFileSync('/bin/sh', ['-c', 'command -v "$1"', 'sh', shell], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('bash script', () => {
  const script = join(dir, 'kubeforge.bash');
  writeFileSync(script, bashScript(spec, '0.0.0-test'));

  function complete(...words: string[]): string[] {
    const program = `source ${JSON.stringify(script)}; COMP_WORDS=("$@"); COMP_CWORD=$((\${#COMP_WORDS[@]} - 1)); _kubeforge; printf '%s\\n' "\${COMPREPLY[@]}"`;
    const result = spawnSync('bash', ['--norc', '--noprofile', '-c', program, 'bash', ...words], { cwd: dir, encoding: 'utf8' });
    expect(result.stderr).toBe('');
    return result.stdout.split('\n').filter(Boolean);
  }

  it('completes commands, then a command\'s own commands, then their options', () => {
    expect(complete('kubeforge', '')).toEqual(['up', 'certs']);
    expect(complete('kubeforge', 'certs', '')).toEqual(['renew', 'check']);
    expect(complete('kubeforge', 'certs', 're')).toEqual(['renew']);
    expect(complete('kubeforge', 'certs', 'renew', '-')).toEqual(['-i', '--inventory', '-y', '--yes', '-h', '--help']);
    expect(complete('kubeforge', 'certs', 'check', '--')).toEqual(['--days', '--help']);
    expect(complete('kubeforge', 'certs', 'renew', '-i', 'kubeforge.b')).toEqual(['kubeforge.bash']);
  });

  it('completes option values by placeholder and offers nothing for free text', () => {
    expect(complete('kubeforge', 'up', '--relay', '')).toEqual(['on', 'off']);
    expect(complete('kubeforge', 'up', '--relay', '=', 'o')).toEqual(['on', 'off']);
    expect(complete('kubeforge', 'certs', 'check', '--days', '')).toEqual([]);
  });
});

describe.skipIf(!installed('fish'))('fish script', () => {
  const script = join(dir, 'kubeforge.fish');
  writeFileSync(script, fishScript(spec, '0.0.0-test'));
  const complete = (line: string) =>
    spawnSync('fish', ['--no-config', '-c', `source ${script}; complete -C ${JSON.stringify(line)}`], { encoding: 'utf8' })
      .stdout.split('\n')
      .filter(Boolean)
      .map((l) => l.split('\t')[0]);

  it("completes a command's own commands, then that one's options", () => {
    expect(complete('kubeforge certs ').sort()).toEqual(['check', 'renew']);
    expect(complete('kubeforge certs renew --')).toEqual(expect.arrayContaining(['--inventory', '--yes', '--help']));
    expect(complete('kubeforge certs renew --')).not.toContain('--days');
  });
});

describe.skipIf(!installed('zsh'))('zsh script', () => {
  it('parses', () => {
    const script = join(dir, '_kubeforge');
    writeFileSync(script, zshScript(spec, '0.0.0-test'));
    const result = spawnSync('zsh', ['-n', script], { encoding: 'utf8' });
    expect([result.status, result.stderr]).toEqual([0, '']);
  });
});
