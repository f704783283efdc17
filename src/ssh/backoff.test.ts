import { describe, expect, it } from 'vitest';
import { backoffDelay } from './backoff.js';

describe('backoff between connection attempts', () => {
  it('doubles up to the maximum, each delay a random point in its upper half', () => {
    const b = { initialMs: 500, maxMs: 8000 };
    expect([1, 2, 3, 4, 5, 6].map((a) => backoffDelay(a, b, () => 0))).toEqual([250, 500, 1000, 2000, 4000, 4000]);
    expect([1, 2, 3, 4, 5, 6].map((a) => backoffDelay(a, b, () => 1))).toEqual([500, 1000, 2000, 4000, 8000, 8000]);
  });

  it('spreads hosts refused at the same moment', () => {
    const delays = new Set(Array.from({ length: 50 }, () => Math.round(backoffDelay(3))));
    expect(delays.size).toBeGreaterThan(20);
  });
});
