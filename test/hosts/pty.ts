// Drive an interactive command through a pseudo-terminal, as a person at a terminal would: wait
// for a prompt's text, then type. No native module: python3's stdlib `pty` forks the command on
// a pty and relays bytes (our stdin → the terminal, the terminal → our stdout).
import { spawn, type ChildProcess } from 'node:child_process';
import { stripVTControlCharacters } from 'node:util';

const RELAY = String.raw`
import fcntl, os, pty, select, signal, struct, sys, termios
argv = sys.argv[1:]
pid, fd = pty.fork()
if pid == 0:
    # A real terminal has a size; prompts lay themselves out by it.
    fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack('HHHH', 50, 220, 0, 0))
    os.execvp(argv[0], argv)
stdin_open = True
while True:
    watched = [fd] + ([0] if stdin_open else [])
    ready, _, _ = select.select(watched, [], [])
    if fd in ready:
        try:
            data = os.read(fd, 65536)
        except OSError:
            data = b''
        if not data:
            break
        os.write(1, data)
    if stdin_open and 0 in ready:
        data = os.read(0, 65536)
        if data:
            os.write(fd, data)
        else:
            # The driver went away: so does the command.
            stdin_open = False
            os.kill(pid, signal.SIGTERM)
_, status = os.waitpid(pid, 0)
code = os.waitstatus_to_exitcode(status)
sys.exit(code if code >= 0 else 128 - code)
`;

export const KEYS = {
  enter: '\r',
  down: '\x1b[B',
  up: '\x1b[A',
  ctrlC: '\x03',
  backspace: '\x7f',
} as const;

export interface PtyOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
}

export class PtySession {
  private raw = '';
  private cursor = 0;
  private readonly child: ChildProcess;
  /** The command's exit code (128 + signal number when killed by a signal). */
  readonly exited: Promise<number>;

  constructor(command: string, args: string[], opts: PtyOptions = {}) {
    this.child = spawn('python3', ['-c', RELAY, command, ...args], {
      cwd: opts.cwd,
      env: { TERM: 'xterm-256color', ...(opts.env ?? process.env) },
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    this.child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      this.raw += chunk;
    });
    this.exited = new Promise((resolve, reject) => {
      this.child.on('error', reject);
      this.child.on('close', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
    });
  }

  /** Everything the terminal showed so far, without escape sequences. */
  screen(): string {
    return stripVTControlCharacters(this.raw);
  }

  /**
   * Wait until text matching `pattern` appears after the previous match, and move past it: a
   * prompt redrawn while typing does not match twice.
   */
  async waitFor(pattern: string | RegExp, timeoutMs = 60_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    let exited = false;
    void this.exited.then(() => (exited = true));
    for (;;) {
      const rest = this.screen().slice(this.cursor);
      const match = typeof pattern === 'string' ? indexMatch(rest, pattern) : pattern.exec(rest);
      if (match) {
        this.cursor += match.index + match[0].length;
        return match[0];
      }
      if (exited || Date.now() > deadline) {
        throw new Error(`${exited ? 'the command exited' : `timed out after ${timeoutMs} ms`} waiting for ${String(pattern)}; the terminal shows since the last match:\n${rest}`);
      }
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  /** Send keys as typed (no Enter added). */
  type(text: string): void {
    this.child.stdin!.write(text);
  }

  /** Wait for the prompt, then type the answer and Enter ('' accepts the default). */
  async answer(prompt: string | RegExp, text: string): Promise<void> {
    await this.waitFor(prompt);
    // Let the prompt finish drawing before the keys arrive, as a person's reaction time would.
    await new Promise((r) => setTimeout(r, 50));
    this.type(text + KEYS.enter);
  }

  /** Stop the command (closing the relay's stdin makes it SIGTERM the command). */
  close(): void {
    this.child.stdin!.end();
  }
}

function indexMatch(text: string, needle: string): { index: number; 0: string } | null {
  const index = text.indexOf(needle);
  return index === -1 ? null : { index, 0: needle };
}
