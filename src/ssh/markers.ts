// Reads the markers remote-command.ts makes the remote shell print on stderr, and hands the rest
// of stderr through untouched. Until the command itself runs, stderr is held back (it is short:
// login-shell noise, sudo's "Sorry, try again.") so a marker split across chunks is still found.

import type { CommandMarkers } from './remote-command.js';

export type MarkerEvent =
  | { kind: 'session'; sid: number | undefined }
  | { kind: 'prompt' }
  | { kind: 'started' };

type Phase = 'session' | 'sudo' | 'running';

export class MarkerScanner {
  private phase: Phase = 'session';
  private held = Buffer.alloc(0);
  private readonly session: Buffer;
  private readonly prompt: Buffer;
  private readonly started: Buffer;

  constructor(
    markers: CommandMarkers,
    private readonly sudo: boolean,
  ) {
    this.session = Buffer.from(markers.session);
    this.prompt = Buffer.from(markers.prompt);
    this.started = Buffer.from(`${markers.started}\n`);
  }

  /** Feed a stderr chunk; returns the command's own stderr to pass on and the markers seen. */
  feed(chunk: Buffer): { output: Buffer; events: MarkerEvent[] } {
    if (this.running()) return { output: chunk, events: [] };
    this.held = Buffer.concat([this.held, chunk]);
    const events: MarkerEvent[] = [];
    for (;;) {
      const event = this.phase === 'session' ? this.takeSession() : this.takeSudo();
      if (!event) break;
      events.push(event);
      if (this.running()) break;
    }
    if (!this.running()) return { output: Buffer.alloc(0), events };
    const output = this.held;
    this.held = Buffer.alloc(0);
    return { output, events };
  }

  /** The command is over: whatever is still held back is ordinary stderr. */
  end(): Buffer {
    const rest = this.held;
    this.held = Buffer.alloc(0);
    return rest;
  }

  // A method, not an inline comparison: TypeScript would keep the narrowing from before the
  // take*() calls that change the phase.
  private running(): boolean {
    return this.phase === 'running';
  }

  private takeSession(): MarkerEvent | undefined {
    const at = this.held.indexOf(this.session);
    if (at < 0) return undefined;
    const newline = this.held.indexOf(0x0a, at + this.session.length);
    if (newline < 0) return undefined;
    const digits = this.held.subarray(at + this.session.length, newline).toString('latin1');
    this.cut(at, newline + 1);
    this.phase = this.sudo ? 'sudo' : 'running';
    return { kind: 'session', sid: /^\d+$/.test(digits) ? Number(digits) : undefined };
  }

  private takeSudo(): MarkerEvent | undefined {
    const prompt = this.held.indexOf(this.prompt);
    const started = this.held.indexOf(this.started);
    if (prompt >= 0 && (started < 0 || prompt < started)) {
      this.cut(prompt, prompt + this.prompt.length);
      return { kind: 'prompt' };
    }
    if (started >= 0) {
      this.cut(started, started + this.started.length);
      this.phase = 'running';
      return { kind: 'started' };
    }
    return undefined;
  }

  private cut(from: number, to: number): void {
    this.held = Buffer.concat([this.held.subarray(0, from), this.held.subarray(to)]);
  }
}
