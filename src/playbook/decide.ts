// The "decide" of gather → decide → act, for one step: from what the host said about it (its
// marker, its files' hashes and modes, its check or verify), whether it acts and why. Pure, and
// the only place this is decided: `up` (run-steps.ts) acts on the answer, `plan` prints it.
import { filesThatDiffer, type ProbeResult, type StepFacts } from './gather.js';
import type { PlannedBundle, PlannedFile, PlannedStep } from './plan.js';

/** Why a step acts (a step may have several reasons at once). */
export type StepReason =
  /** No marker: the step never succeeded on this host. */
  | { kind: 'never-ran' }
  /** A marker from other inputs: something that defines the step changed since it last ran. */
  | { kind: 'inputs-changed' }
  /** Files whose content or mode is not the plan's (missing ones included). */
  | { kind: 'files-differ'; files: PlannedFile[] }
  /** Its check does not hold on the host. */
  | { kind: 'check-fails'; probe: ProbeResult };

export type StepDecision =
  /** Marker, files and check all hold: nothing to do. */
  | { action: 'unchanged' }
  /** A verifyOnly step whose verify passed. */
  | { action: 'verified' }
  /** A check or verify that ran out the step's time. */
  | { action: 'fail'; why: 'timeout'; probe: ProbeResult }
  /** A verifyOnly step whose verify failed (with its exit code and output). */
  | { action: 'fail'; why: 'verify'; probe: ProbeResult & { code: number } }
  /**
   * It acts: writes `files`, sends `bundles` (a bundlesIfNeeded step's only when its check
   * fails), runs its commands, writes its marker.
   */
  | { action: 'run'; reasons: StepReason[]; files: PlannedFile[]; bundles: PlannedBundle[] };

/** Thrown when the host's answer lacks what the decision needs (a bug or a garbled answer). */
export class MissingFacts extends Error {}

export function decideStep(step: PlannedStep, facts: StepFacts): StepDecision {
  const probe = facts.probe;
  if (probe?.code === 'timeout') return { action: 'fail', why: 'timeout', probe };
  if (step.verifyOnly) {
    if (!probe) throw new MissingFacts(`the host did not run the verify of ${step.key}`);
    if (probe.code === 0) return { action: 'verified' };
    return { action: 'fail', why: 'verify', probe: { ...probe, code: probe.code } };
  }
  const files = filesThatDiffer(step, facts);
  const checkHolds = step.check ? probe?.code === 0 : true;
  const reasons: StepReason[] = [];
  if (facts.marker === '') reasons.push({ kind: 'never-ran' });
  else if (facts.marker !== step.fingerprint) reasons.push({ kind: 'inputs-changed' });
  if (files.length > 0) reasons.push({ kind: 'files-differ', files });
  if (!checkHolds) reasons.push({ kind: 'check-fails', probe: probe ?? { code: 1, ms: 0, stdout: '', stderr: '' } });
  if (reasons.length === 0) return { action: 'unchanged' };
  // A bundle the host may not need at all (OS packages it already has) goes only when the check fails.
  const bundles = step.bundlesIfNeeded && checkHolds ? [] : step.bundles;
  return { action: 'run', reasons, files, bundles };
}
