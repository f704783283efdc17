// Progress in a terminal, for 3 hosts or 300: events only update a small state (O(1) each, a
// thousand upload callbacks per bundle cost nothing), and a timer draws the state a few times a
// second as one frame that fits the terminal (live-frame.ts). The run is never slowed by its
// display: drawing is bounded by the terminal's size, not by the number of hosts or events.
// (listr2, used before, redrew every host's line on every title change: at 50 hosts the view
// took 100 % CPU and starved the run.)
import type { RunEvents } from '../run/outcome.js';
import { renderFrame, usableSize, visibleLength, type LiveHost, type LiveState } from './live-frame.js';

export interface LiveProgress {
  events: RunEvents;
  /** Draws the final frame and gives the terminal back (cursor shown). */
  close(): void;
}

const HIDE_CURSOR = '\x1b[?25l';
const SHOW_CURSOR = '\x1b[?25h';

export function liveProgress(hostNames: string[], out: NodeJS.WriteStream, opts: { color: boolean; intervalMs?: number }): LiveProgress {
  const state: LiveState = {
    hosts: hostNames.map((name): LiveHost => ({ name, status: 'waiting', text: '' })),
    bytesSent: 0,
    startedAt: Date.now(),
  };
  const byName = new Map(state.hosts.map((h) => [h.name, h]));
  const sentSoFar = new Map<string, number>();
  let tick = 0;
  let previous: string[] = [];
  let previousColumns = 0;

  const host = (name: string): LiveHost | undefined => byName.get(name);
  const running = (name: string, text: string) => {
    const h = host(name);
    if (!h || (h.status !== 'waiting' && h.status !== 'running')) return;
    h.status = 'running';
    h.text = text;
  };

  const draw = () => {
    const { rows, columns } = usableSize(out.rows, out.columns);
    const lines = renderFrame(state, { rows, columns, now: Date.now(), tick: tick++, color: opts.color });
    // Where the last frame started: its lines may wrap into more rows if the terminal narrowed.
    const used = previous.reduce((n, l) => n + Math.max(1, Math.ceil(visibleLength(l) / Math.max(1, columns))), 0);
    const up = previous.length === 0 ? '' : columns < previousColumns ? `\x1b[${used}F` : `\x1b[${previous.length}F`;
    out.write(`${up}\x1b[J${lines.join('\n')}\n`);
    previous = lines;
    previousColumns = columns;
  };

  out.write(HIDE_CURSOR);
  const restoreCursor = () => out.write(SHOW_CURSOR);
  process.once('exit', restoreCursor);
  const timer = setInterval(draw, opts.intervalMs ?? 150);
  draw();

  const events: RunEvents = {
    hostActivity: (name, text) => running(name, text),
    stepStart: (name, key, title) => running(name, `${key} — ${title}`),
    uploadProgress: (name, key, bundle, sent, total, from) => {
      const percent = `${total ? Math.floor((sent / total) * 100) : 100}%`;
      // Relayed bytes crossed the hosts' network, not this machine's link.
      if (from) return running(name, `${key}: receiving ${bundle} from ${from} ${percent}`);
      const id = `${name}\0${key}\0${bundle}`;
      state.bytesSent += Math.max(0, sent - (sentSoFar.get(id) ?? 0));
      sentSoFar.set(id, sent);
      running(name, `${key}: sending ${bundle} ${percent}`);
    },
    stepEnd: (name, result) => running(name, `${result.key} ${result.status}`),
    hostEnd: (r) => {
      const h = host(r.host);
      if (!h) return;
      h.status = r.status === 'reset' ? 'ok' : r.status; // reset: done, as far as this view goes
      h.text = r.status === 'ok' ? 'done' : (r.reason ?? r.status);
    },
  };

  return {
    events,
    close: () => {
      clearInterval(timer);
      draw();
      restoreCursor();
      process.off('exit', restoreCursor);
    },
  };
}
