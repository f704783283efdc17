// What the live progress view shows at one instant, as lines that fit the terminal: a header
// with the counts, every failure so far, then as many running hosts as fit. Pure: state and
// terminal size in, lines out, so it is tested without a terminal and costs the same whatever
// the number of events that led to the state.
import { formatBytes } from '../playbook/run-steps.js';

export type LiveStatus = 'waiting' | 'running' | 'ok' | 'failed' | 'blocked' | 'cancelled';

export interface LiveHost {
  name: string;
  status: LiveStatus;
  /** What the host is doing now (running) or why it stopped (failed, blocked, cancelled). */
  text: string;
}

export interface LiveState {
  hosts: LiveHost[];
  bytesSent: number;
  startedAt: number;
}

export interface FrameOptions {
  rows: number;
  columns: number;
  now: number;
  /** Spinner frame index, advanced by the caller's timer. */
  tick: number;
  color: boolean;
}

const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

/** A terminal of unknown or zero size (a pty nobody sized) gets a modest default. */
export function usableSize(rows: number | undefined, columns: number | undefined): { rows: number; columns: number } {
  return { rows: rows && rows > 2 ? rows : 24, columns: columns && columns > 20 ? columns : 80 };
}

export function renderFrame(state: LiveState, opts: FrameOptions): string[] {
  const count = (s: LiveStatus) => state.hosts.filter((h) => h.status === s).length;
  const elapsed = Math.max(0, Math.round((opts.now - state.startedAt) / 1000));
  const header =
    `${count('ok')} done, ${count('running')} running, ${count('failed')} failed` +
    (count('blocked') ? `, ${count('blocked')} blocked` : '') +
    (count('cancelled') ? `, ${count('cancelled')} cancelled` : '') +
    `, ${count('waiting')} waiting of ${state.hosts.length} hosts · ${formatBytes(state.bytesSent)} sent · ${elapsed} s`;
  // One line is left free: the cursor's line, so the frame never scrolls the terminal.
  const budget = Math.max(1, opts.rows - 1);
  const lines = [fit(opts.color ? `\x1b[1m${header}\x1b[22m` : header, opts.columns)];
  const failures = state.hosts.filter((h) => h.status === 'failed');
  const running = state.hosts.filter((h) => h.status === 'running');
  // Failures first (they matter most), but never all the room when many fail at once.
  const failureRoom = Math.min(failures.length, Math.max(1, Math.ceil((budget - 1) / 2)));
  const shownFailures = failures.length > failureRoom ? failures.slice(0, failureRoom - 1) : failures;
  for (const h of shownFailures) lines.push(fit(`✖ ${h.name}: ${h.text}`, opts.columns));
  if (shownFailures.length < failures.length) lines.push(fit(`✖ … and ${failures.length - shownFailures.length} more failed (the summary lists them)`, opts.columns));
  const room = budget - lines.length;
  if (room > 0 && running.length > 0) {
    const spinner = SPINNER[opts.tick % SPINNER.length];
    const shown = running.length > room ? running.slice(0, room - 1) : running;
    for (const h of shown) lines.push(fit(`${spinner} ${h.name}: ${h.text}`, opts.columns));
    if (shown.length < running.length) lines.push(fit(`  … and ${running.length - shown.length} more running`, opts.columns));
  }
  return lines;
}

/** Characters a line takes on screen: its colour escapes take none. */
export function visibleLength(line: string): number {
  return [...line.replace(/\x1b\[[0-9;]*m/g, '')].length;
}

/** Cut a line to the terminal's width (counting only visible characters): it must never wrap. */
function fit(line: string, columns: number): string {
  const max = Math.max(1, columns - 1);
  if (visibleLength(line) <= max) return line;
  return `${[...line.replace(/\x1b\[[0-9;]*m/g, '')].slice(0, max - 1).join('')}…`;
}
