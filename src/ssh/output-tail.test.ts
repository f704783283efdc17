import { describe, expect, it } from 'vitest';
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
