import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { killSessionCommand, newMarkers, remoteCommandLine } from './remote-command.js';

const markers = newMarkers();

/** Run a command line the way sshd does: through the login shell with -c. */
function runLine(line: string) {
  const result = spawnSync('bash', ['-c', line], { encoding: 'utf8' });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('remoteCommandLine', () => {
  it('reports the session id first, then runs the command under sh', () => {
    const { code, stdout, stderr } = runLine(
      remoteCommandLine('echo out; echo err >&2; exit 7', { sudo: false, markers }),
    );
    expect(code).toBe(7);
    expect(stdout).toBe('out\n');
    expect(stderr).toMatch(new RegExp(`^${escape(markers.session)}\\d+\\nerr\\n$`));
  });

  it('exports env values byte for byte, also to later parts of a compound command', () => {
    const env = { NASTY: `it's "$(x)" \`y\` ; $HOME\nline2`, EMPTY: '' };
    const { stdout } = runLine(
      remoteCommandLine(`true && printf '%s|%s' "$NASTY" "$EMPTY"`, { sudo: false, env, markers }),
    );
    expect(stdout).toBe(`${env.NASTY}|`);
  });

  it('refuses env names a shell would not treat as plain variables', () => {
    for (const name of ['lower', '1ABC', 'A-B', 'A B', 'A;rm']) {
      expect(() => remoteCommandLine('true', { sudo: false, env: { [name]: 'x' }, markers })).toThrow(/invalid/);
    }
  });

  it('with sudo: asks with the marker prompt and prints the start marker inside sudo', () => {
    const line = remoteCommandLine('id', { sudo: true, markers });
    expect(line).toContain('exec sudo -S -p');
    expect(line).toContain(markers.prompt);
    expect(line).toContain(markers.started);
  });

  it('builds a kill for the whole session', () => {
    expect(killSessionCommand(4242)).toBe('pkill -KILL -s 4242 2>/dev/null || kill -KILL -- -4242 2>/dev/null; true');
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
