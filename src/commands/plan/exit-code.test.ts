// plan's exit codes, as terraform's --detailed-exitcode: 0 no changes, 2 changes, 1 any error.
import { describe, expect, it } from 'vitest';
import { detailedExitCodeOf, exitCodeOf, InputError, InterruptedError, planExitCode, PlanExitCode } from '../../errors.js';

describe('plan exit codes', () => {
  it('is 0 without changes, and 0 with changes unless --detailed-exitcode asks for 2', () => {
    expect(planExitCode({ changes: false, problems: false }, false)).toBe(0);
    expect(planExitCode({ changes: false, problems: false }, true)).toBe(0);
    expect(planExitCode({ changes: true, problems: false }, false)).toBe(0);
    expect(planExitCode({ changes: true, problems: false }, true)).toBe(PlanExitCode.changes);
  });

  it('is 1 when a host could not be planned or up would fail, changes or not', () => {
    for (const detailed of [false, true]) {
      expect(planExitCode({ changes: true, problems: true }, detailed)).toBe(1);
      expect(planExitCode({ changes: false, problems: true }, detailed)).toBe(1);
    }
  });

  it('turns bad input (2 everywhere else) into 1 under --detailed-exitcode, so 2 only ever means changes', () => {
    const bad = new InputError('inventory.yaml:3:5', 'unknown key');
    expect(exitCodeOf(bad)).toBe(2);
    expect(detailedExitCodeOf(bad)).toBe(1);
    expect(detailedExitCodeOf(new Error('boom'))).toBe(1);
    expect(detailedExitCodeOf(new InterruptedError())).toBe(130);
  });
});
