// Stand-ins that make a root login look like an ordinary user who needs sudo, for testing the
// non-root paths against the local sshd (which only admits root). Put `binDir` first on the
// session PATH with startSshd({ extraPath }).
//   id -u  → 1000, so the connection believes it is not root;
//   sudo   → understands `-S -p PROMPT --`, asks for the password in `sudo-password` when that
//            file exists (three tries, like sudo), logs each use, then runs the command.

import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface FakeSudo {
  binDir: string;
  /** Make sudo ask for this password; undefined = passwordless (NOPASSWD). */
  requirePassword(password: string | undefined): Promise<void>;
  /** One line per sudo call: the command it ran. */
  log(): Promise<string>;
}

export async function installFakeSudo(dir: string): Promise<FakeSudo> {
  const binDir = join(dir, 'fake-bin');
  await mkdir(binDir, { recursive: true });
  const passwordFile = join(binDir, 'sudo-password');
  const logFile = join(binDir, 'sudo-log');
  await writeFile(
    join(binDir, 'id'),
    '#!/bin/sh\nif [ "$1" = "-u" ] && [ $# -eq 1 ]; then echo 1000; else exec /usr/bin/id "$@"; fi\n',
    { mode: 0o755 },
  );
  await writeFile(
    join(binDir, 'sudo'),
    `#!/bin/sh
prompt='Password: '
while [ $# -gt 0 ]; do
  case "$1" in
    -S) shift ;;
    -p) prompt=$2; shift 2 ;;
    --) shift; break ;;
    *) break ;;
  esac
done
if [ -f '${passwordFile}' ]; then
  want=$(cat '${passwordFile}')
  tries=0
  while :; do
    printf '%s' "$prompt" >&2
    IFS= read -r got || { echo 'sudo: no password was provided' >&2; exit 1; }
    [ "$got" = "$want" ] && break
    tries=$((tries + 1))
    if [ $tries -ge 3 ]; then echo 'sudo: 3 incorrect password attempts' >&2; exit 1; fi
    echo 'Sorry, try again.' >&2
  done
fi
printf '%s\\n' "$*" >> '${logFile}'
exec "$@"
`,
    { mode: 0o755 },
  );
  return {
    binDir,
    async requirePassword(password) {
      if (password === undefined) await rm(passwordFile, { force: true });
      else await writeFile(passwordFile, password);
    },
    async log() {
      return readFile(logFile, 'utf8').catch(() => '');
    },
  };
}
