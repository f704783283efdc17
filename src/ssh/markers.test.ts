import { describe, expect, it } from 'vitest';
import { MarkerScanner, type MarkerEvent } from './markers.js';
import { newMarkers } from './remote-command.js';

const markers = newMarkers();

/** Feed chunks one by one; collect the passed-through stderr and the events. */
function scan(sudo: boolean, chunks: string[], atEnd = true): { stderr: string; events: MarkerEvent[] } {
  const scanner = new MarkerScanner(markers, sudo);
  let stderr = '';
  const events: MarkerEvent[] = [];
  for (const chunk of chunks) {
    const result = scanner.feed(Buffer.from(chunk));
    stderr += result.output.toString();
    events.push(...result.events);
  }
  if (atEnd) stderr += scanner.end().toString();
  return { stderr, events };
}

/** Split text into pieces of `size` characters, to cut markers in the middle. */
function pieces(text: string, size: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out;
}

describe('MarkerScanner', () => {
  it('finds the session id even when chunks cut the marker, and strips it', () => {
    const text = `bashrc noise\n${markers.session}4242\ncommand error\n`;
    for (const size of [1, 3, 7, text.length]) {
      expect(scan(false, pieces(text, size))).toEqual({
        stderr: 'bashrc noise\ncommand error\n',
        events: [{ kind: 'session', sid: 4242 }],
      });
    }
  });

  it('reports an unknown session id when /proc was not readable', () => {
    expect(scan(false, [`${markers.session}\n`]).events).toEqual([{ kind: 'session', sid: undefined }]);
  });

  it('passes stderr through at once after the command started', () => {
    const scanner = new MarkerScanner(markers, false);
    scanner.feed(Buffer.from(`${markers.session}7\n`));
    expect(scanner.feed(Buffer.from('live')).output.toString()).toBe('live');
  });

  it('with sudo: reports prompts and the start, and keeps sudo messages', () => {
    const text =
      `${markers.session}99\n${markers.prompt}Sorry, try again.\n${markers.prompt}` +
      `${markers.started}\nreal stderr\n`;
    for (const size of [1, 5, text.length]) {
      expect(scan(true, pieces(text, size))).toEqual({
        stderr: 'Sorry, try again.\nreal stderr\n',
        events: [{ kind: 'session', sid: 99 }, { kind: 'prompt' }, { kind: 'prompt' }, { kind: 'started' }],
      });
    }
  });

  it('holds stderr back until the start, so a prompt is never mistaken for output', () => {
    const { stderr, events } = scan(true, [`${markers.session}1\n`, markers.prompt], false);
    expect(stderr).toBe('');
    expect(events.map((e) => e.kind)).toEqual(['session', 'prompt']);
  });

  it('gives back what it held when the command never started', () => {
    expect(scan(true, [`${markers.session}1\n`, 'sudo: a password is required\n']).stderr).toBe(
      'sudo: a password is required\n',
    );
  });

  it('does not interpret marker text the command itself prints later', () => {
    const { stderr, events } = scan(true, [`${markers.session}1\n${markers.started}\n`, `${markers.prompt}\n`]);
    expect(events.map((e) => e.kind)).toEqual(['session', 'started']);
    expect(stderr).toBe(`${markers.prompt}\n`);
  });
});
