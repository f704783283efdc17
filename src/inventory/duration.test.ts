import { describe, expect, it } from 'vitest';
import { parseDuration } from './duration.js';

describe('parseDuration', () => {
  it('reads one or more number+unit parts into milliseconds', () => {
    expect(parseDuration('10s')).toBe(10_000);
    expect(parseDuration('2m')).toBe(120_000);
    expect(parseDuration('1h')).toBe(3_600_000);
    expect(parseDuration('500ms')).toBe(500);
    expect(parseDuration('1m30s')).toBe(90_000);
    expect(parseDuration('1.5s')).toBe(1500);
    expect(parseDuration('0s')).toBe(0);
  });

  it('rejects numbers without a unit, spaces and unknown units', () => {
    for (const bad of ['10', '10 s', '10 seconds', 's', '', '-1s', '1d', '1m 30s']) expect(parseDuration(bad), bad).toBeUndefined();
  });
});
