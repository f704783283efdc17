// The completion scripts as the shells load them: bash itself sources `kubeforge completion
// bash` and runs its completion function with COMP_WORDS/COMP_CWORD set as bash sets them on
// TAB; fish runs `complete -C`; zsh completes in a pseudo-terminal (zsh/zpty), as on a TAB
// typed at its prompt. The scripts call the built CLI (`__complete hosts`) for --limit, so this file
// runs in the e2e project, after `npm run build`. No test host is needed.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../hosts/exec.js';
import { CLI, kubeforge } from './support.js';

function installed(shell: string): boolean {
  try {
    execFileSync('/bin/sh', ['-c', 'command -v "$1"', 'sh', shell], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

// scripts/setup-machine.sh installs zsh and fish; CI must not skip their checks silently.
const missingShells = ['zsh', 'fish'].filter((s) => !installed(s));
if (missingShells.length > 0) {
  if (process.env.CI === 'true') throw new Error(`CI=true but ${missingShells.join(' and ')} not installed (scripts/setup-machine.sh installs them)`);
  process.stderr.write(`SKIPPING the ${missingShells.join(' and ')} completion checks: not installed (scripts/setup-machine.sh installs them)\n`);
}

const INVENTORY = `cluster: {name: demo}
hosts:
  - {name: cp1, address: 10.0.0.1, role: control-plane}
  - {name: worker-a, address: 10.0.0.2, role: worker}
  - {name: worker-b, address: 10.0.0.3, role: worker}
`;

describe('kubeforge completion', () => {
  let dir: string;
  let bin: string;
  const scripts: Record<string, string> = {};

  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'kf-completion-'));
    // `kubeforge` on PATH, as an installed one would be.
    bin = path.join(dir, 'bin');
    await fs.mkdir(bin);
    await fs.writeFile(path.join(bin, 'kubeforge'), `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(CLI)} "$@"\n`, { mode: 0o755 });
    await fs.mkdir(path.join(dir, 'work', 'sub'), { recursive: true });
    await fs.writeFile(path.join(dir, 'work', 'inventory.yaml'), INVENTORY);
    await fs.writeFile(path.join(dir, 'work', 'staging.yaml'), INVENTORY.replace('worker-a', 'stage-1').replace('worker-b', 'stage-2'));
    for (const shell of ['bash', 'zsh', 'fish']) {
      const printed = await kubeforge(['completion', shell]);
      expect(printed.code, printed.stderr).toBe(0);
      scripts[shell] = path.join(dir, `kubeforge.${shell}`);
      await fs.writeFile(scripts[shell]!, printed.stdout);
    }
  });

  afterAll(async () => {
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  const env = () => ({ ...process.env, PATH: `${bin}${path.delimiter}${process.env.PATH ?? ''}` });

  /** COMPREPLY after bash runs the completion function for `words` (the last one being completed). */
  async function bash(...words: string[]): Promise<string[]> {
    const program = `source ${JSON.stringify(scripts.bash)}
COMP_WORDS=("$@"); COMP_CWORD=$((\${#COMP_WORDS[@]} - 1))
COMP_LINE="\${COMP_WORDS[*]}"; COMP_POINT=\${#COMP_LINE}
_kubeforge
printf '%s\\n' "\${COMPREPLY[@]}"`;
    const result = await run('bash', ['--norc', '--noprofile', '-c', program, 'bash', ...words], { cwd: path.join(dir, 'work'), env: env() });
    expect(result.stderr).toBe('');
    return result.stdout.split('\n').filter(Boolean);
  }

  describe('bash', () => {
    it('completes the commands, not the internal __complete', async () => {
      expect(await bash('kubeforge', '')).toEqual(expect.arrayContaining(['up', 'init', 'status', 'kubeconfig', 'completion']));
      expect(await bash('kubeforge', '')).not.toContain('__complete');
      expect(await bash('kubeforge', 'kube')).toEqual(['kubeconfig']);
    });

    it("completes a command's options", async () => {
      expect(await bash('kubeforge', 'up', '--re')).toEqual(['--retry-failed', '--relay']);
      expect(await bash('kubeforge', 'kubeconfig', '--')).toEqual(['--inventory', '--merge', '--server', '--help']);
      expect(await bash('kubeforge', 'up', '--merge')).toEqual(['--merge-kubeconfig']);
    });

    it('completes --limit with the host names and roles of ./inventory.yaml', async () => {
      expect(await bash('kubeforge', 'up', '--limit', '')).toEqual(['cp1', 'worker-a', 'worker-b', 'role=control-plane', 'role=worker']);
      expect(await bash('kubeforge', 'up', '--limit', 'wo')).toEqual(['worker-a', 'worker-b']);
    });

    it('reads the inventory given with -i, --inventory FILE or --inventory=FILE (split at = as bash does)', async () => {
      expect(await bash('kubeforge', 'up', '-i', 'staging.yaml', '--limit', 'stage')).toEqual(['stage-1', 'stage-2']);
      expect(await bash('kubeforge', 'up', '--inventory', 'staging.yaml', '--limit', 's')).toEqual(['stage-1', 'stage-2']);
      expect(await bash('kubeforge', 'up', '--inventory', '=', 'staging.yaml', '--limit', '=', 'st')).toEqual(['stage-1', 'stage-2']);
    });

    it('completes after a comma, keeping what is before it', async () => {
      expect(await bash('kubeforge', 'up', '--limit', 'cp1,worker-')).toEqual(['cp1,worker-a', 'cp1,worker-b']);
    });

    it('completes role= with the two roles', async () => {
      expect(await bash('kubeforge', 'up', '--limit', 'role', '=', '')).toEqual(['worker', 'control-plane']);
      expect(await bash('kubeforge', 'up', '--limit', 'role', '=', 'w')).toEqual(['worker']);
    });

    it('completes option values: on/off, files, shells', async () => {
      expect(await bash('kubeforge', 'up', '--relay', '')).toEqual(['on', 'off']);
      expect(await bash('kubeforge', 'up', '-i', 'st')).toEqual(['staging.yaml']);
      expect(await bash('kubeforge', 'completion', '')).toEqual(['bash', 'zsh', 'fish']);
      expect(await bash('kubeforge', 'up', '--concurrency', '')).toEqual([]);
    });

    it('offers only the roles for --limit when there is no inventory to read, and prints no error', async () => {
      expect(await bash('kubeforge', 'up', '-i', 'missing.yaml', '--limit', '')).toEqual(['role=control-plane', 'role=worker']);
    });
  });

  it('__complete hosts reads the file only: an unreadable or broken inventory gives the roles, exit 0, nothing on stderr', async () => {
    const broken = path.join(dir, 'broken.yaml');
    await fs.writeFile(broken, 'hosts: [ {name: cp1\n');
    for (const file of [broken, path.join(dir, 'nope.yaml')]) {
      const result = await kubeforge(['__complete', 'hosts', '--inventory', file]);
      expect(result).toEqual({ code: 0, stdout: 'role=control-plane\nrole=worker\n', stderr: '' });
    }
  });

  it.skipIf(!installed('fish'))('fish: loads, and completes commands and --limit host names after a comma', async () => {
    const fish = (line: string) => run('fish', ['--no-config', '-c', `source ${scripts.fish}; complete -C ${JSON.stringify(line)}`], { cwd: path.join(dir, 'work'), env: env() });
    const hosts = await fish('kubeforge up --limit cp1,w');
    expect(hosts.stderr).toBe('');
    expect(hosts.stdout.split('\n').map((l) => l.split('\t')[0])).toEqual(expect.arrayContaining(['cp1,worker-a', 'cp1,worker-b']));
    expect((await fish('kubeforge up -i staging.yaml --limit ')).stdout.split('\n').map((l) => l.split('\t')[0]).filter(Boolean)).toEqual(
      expect.arrayContaining(['cp1', 'stage-1', 'stage-2', 'role=worker']),
    );
    expect((await fish('kubeforge kubec')).stdout).toMatch(/^kubeconfig\t/);
    expect((await fish('kubeforge up --relay ')).stdout.split('\n').map((l) => l.split('\t')[0]).filter(Boolean).sort()).toEqual(['off', 'on']);
  });

  it.skipIf(!installed('zsh'))('zsh: the script parses (zsh -n) and defines its functions when sourced', async () => {
    expect(await run('zsh', ['-n', scripts.zsh!], { allowFail: true })).toEqual({ code: 0, stdout: '', stderr: '' });
    const loaded = await run('zsh', ['-f', '-c', `autoload -U compinit && compinit -u -D; source ${scripts.zsh}; whence -w _kubeforge _kubeforge_hosts`], { allowFail: true, env: env() });
    expect(loaded.stdout.trim().split('\n')).toEqual(['_kubeforge: function', '_kubeforge_hosts: function']);
  });

  /**
   * What zsh's completion system offers for `line` + TAB: an interactive zsh in a pseudo-terminal
   * (zsh/zpty) with the script loaded and compadd wrapped to print each match it adds.
   */
  async function zsh(line: string): Promise<string[]> {
    const capture = path.join(dir, 'capture.zsh');
    await fs.writeFile(
      capture,
      `zmodload zsh/zpty
zpty z zsh -f -i
zpty -w z 'PROMPT=""; autoload -U compinit; compinit -u -D; source ${scripts.zsh}'
zpty -w z 'compadd () { local -a __hits; builtin compadd -A __hits "$@"; (( $#__hits )) && print -rl -- "<M>"\${^__hits} >/dev/tty; builtin compadd "$@" }'
zpty -w z '_capture () { _main_complete; print -r -- "<END>" >/dev/tty }; zle -C capture complete-word _capture; bindkey "^I" capture'
zpty -w z 'print -r -- "<READY"">"'
while zpty -r z line; do [[ $line == *'<READY>'* ]] && break; done
zpty -w -n z "$1"$'\\t'
while zpty -r z line; do
  [[ $line == *'<END>'* ]] && break
  [[ $line == *'<M>'* ]] && print -r -- "\${\${line##*<M>}%%$'\\r'*}"
done
zpty -d z
`,
    );
    // The bound only keeps a broken script from hanging the suite; nothing is timed.
    const result = await run('zsh', ['-f', capture, line], { cwd: path.join(dir, 'work'), env: env(), allowFail: true, timeoutMs: 60_000 });
    expect(result.code, result.stderr).toBe(0);
    return [...new Set(result.stdout.split('\n').filter(Boolean))];
  }

  it.skipIf(!installed('zsh'))('zsh: completes commands, options, values and --limit host names (after a comma too)', async () => {
    expect(await zsh('kubeforge ')).toEqual(expect.arrayContaining(['up', 'init', 'status', 'kubeconfig', 'completion']));
    expect(await zsh('kubeforge up --re')).toEqual(['--retry-failed', '--relay']);
    expect(await zsh('kubeforge up --relay ')).toEqual(['on', 'off']);
    expect(await zsh('kubeforge up --limit ')).toEqual(['cp1', 'worker-a', 'worker-b', 'role=control-plane', 'role=worker']);
    expect(await zsh('kubeforge up -i staging.yaml --limit st')).toEqual(['stage-1', 'stage-2']);
    // _sequence keeps "cp1," and completes the name after it.
    expect(await zsh('kubeforge up --limit cp1,worker-')).toEqual(['worker-a', 'worker-b']);
  });
});
