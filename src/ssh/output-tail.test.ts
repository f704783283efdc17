import { describe, expect, it } from 'vitest';
import { cutLine, OUTPUT_BOUNDS, tailLines } from '../run/remote.js';
import { OutputTail, lastLines } from './output-tail.js';

describe('OutputTail', () => {
  it('keeps everything below the cap', () => {
    const tail = new OutputTail(10);
    tail.push(Buffer.from('abc'));
    tail.push(Buffer.from('def'));
    expect(tail.toString()).toBe('abcdef');
    expect(tail.dropped).toBe(0);
  });

  it('keeps only the last cap bytes, across and inside chunks', () => {
    const tail = new OutputTail(5);
    for (const chunk of ['abc', 'defg', 'hi']) tail.push(Buffer.from(chunk));
    expect(tail.toString()).toBe('efghi');
    expect(tail.dropped).toBe(4);
  });

  it('does not start with half a UTF-8 character after a cut', () => {
    const tail = new OutputTail(4);
    tail.push(Buffer.from('xü✓')); // x(1) ü(2) ✓(3): keeping 4 bytes cuts ü in half
    expect(tail.toString()).toBe('✓');
  });
});

describe('lastLines', () => {
  it('returns the last lines, ignoring one trailing newline', () => {
    expect(lastLines('a\nb\nc\n', 2)).toBe('b\nc');
    expect(lastLines('a\nb', 5)).toBe('a\nb');
    expect(lastLines('', 3)).toBe('');
  });
});

describe('bounded output (lastLines and tailLines)', () => {
  it('ends on output that starts with blank lines (empty stdout, then stderr): it hung the run once', () => {
    expect(tailLines('\nkubectl: error')).toBe('kubectl: error');
    expect(tailLines('\n\n\n')).toBe('');
    expect(tailLines('')).toBe('');
    expect(tailLines('\n')).toBe('');
    expect(lastLines('\nonly', 5)).toBe('\nonly'); // lastLines keeps blank lines
  });

  it('cuts a single 10 MB line to its start, with an ellipsis and its size', () => {
    const huge = 'x'.repeat(10 * 1024 * 1024);
    for (const kept of [lastLines(`${huge}\n`, 20), tailLines(`ok\n${huge}\n\n`)]) {
      expect(Buffer.byteLength(kept)).toBeLessThanOrEqual(OUTPUT_BOUNDS.bytes);
      expect(kept).toMatch(/x… \(10485760 bytes\)$/);
    }
    expect(Buffer.byteLength(cutLine(huge))).toBeLessThanOrEqual(OUTPUT_BOUNDS.lineBytes);
  });

  it('keeps at most 20 lines and 4 KiB, the last ones', () => {
    const lines = Array.from({ length: 100 }, (_, i) => `line ${i} ${'y'.repeat(400)}`);
    const kept = tailLines(lines.join('\n')).split('\n');
    expect(kept.length).toBeLessThanOrEqual(OUTPUT_BOUNDS.lines);
    expect(Buffer.byteLength(kept.join('\n'))).toBeLessThanOrEqual(OUTPUT_BOUNDS.bytes);
    expect(kept.at(-1)).toBe(lines.at(-1));
    expect(tailLines(Array.from({ length: 30 }, (_, i) => `l${i}`).join('\n'))).toBe(Array.from({ length: 20 }, (_, i) => `l${i + 10}`).join('\n'));
  });

  it('drops blank lines in tailLines as before, and never splits a character', () => {
    expect(tailLines('a\n\n  \nb\n')).toBe('a\nb');
    const wide = '✓'.repeat(1000); // 3 bytes each
    const cut = cutLine(wide, 100);
    expect(Buffer.byteLength(cut)).toBeLessThanOrEqual(100);
    expect(cut).toMatch(/^✓+… \(3000 bytes\)$/);
  });
});
