// Every error the CLI can end with, and the exit code each maps to, in one place.

export const ExitCode = {
  ok: 0,
  /** Some host failed or was blocked; the summary and the ledger say which and why. */
  hostsFailed: 1,
  /** Bad input: inventory, flags, playbooks. Nothing on any host was touched. */
  input: 2,
  /** A bug in kubeforge (an error nothing handled); the run was stopped, the ledger written. */
  internal: 70,
  /** Interrupted by the user (Ctrl-C); the ledger was written. */
  interrupted: 130,
} as const;

/**
 * `kubeforge plan --detailed-exitcode`, as terraform's: 0 nothing would change, 2 something
 * would, 1 an error — bad input included, so that 2 never means anything but "changes".
 */
export const PlanExitCode = {
  noChanges: 0,
  error: 1,
  changes: 2,
} as const;

/**
 * plan's exit code from its outcome: a host it could not plan, a preflight error or a step
 * that would fail is an error (1); otherwise 0, or with --detailed-exitcode 2 when something
 * would change.
 */
export function planExitCode(outcome: { changes: boolean; problems: boolean }, detailed: boolean): number {
  if (outcome.problems) return PlanExitCode.error;
  return detailed && outcome.changes ? PlanExitCode.changes : PlanExitCode.noChanges;
}

/** An error's exit code under plan --detailed-exitcode: input errors (2 elsewhere) become 1. */
export function detailedExitCodeOf(err: unknown): number {
  const code = exitCodeOf(err);
  return code === ExitCode.input ? PlanExitCode.error : code;
}

/** Base class: an error we expect and can explain to a user, with an optional hint. */
export class KubeforgeError extends Error {
  readonly exitCode: number = ExitCode.hostsFailed;
  constructor(
    message: string,
    readonly hint?: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** The inventory, a playbook or a flag is wrong. `where` is FILE:LINE:COL or a host name. */
export class InputError extends KubeforgeError {
  override readonly exitCode = ExitCode.input;
  constructor(
    readonly where: string,
    readonly detail: string,
    hint?: string,
  ) {
    super(`${where}: ${detail}`, hint);
  }
}

/** Several input errors found in one pass, reported together. */
export class InputErrors extends KubeforgeError {
  override readonly exitCode = ExitCode.input;
  constructor(readonly errors: InputError[]) {
    super(errors.map((e) => e.message).join('\n'));
  }
}

export class InterruptedError extends KubeforgeError {
  override readonly exitCode = ExitCode.interrupted;
  constructor() {
    super('interrupted');
  }
}

/**
 * An error that escaped every handler (an unhandled 'error' event or rejection) during a run:
 * a bug in kubeforge, which stops the run in order rather than crashing it.
 */
export class InternalError extends KubeforgeError {
  override readonly exitCode = ExitCode.internal;
  constructor(readonly escaped: unknown) {
    const detail = escaped instanceof Error ? `${escaped.name}: ${escaped.message}` : String(escaped);
    super(`internal error (this is a bug in kubeforge): ${detail.slice(0, 500)}`, 'the run was stopped and the ledger written; please report this with the ledger file');
  }
}

export function formatError(err: unknown): string {
  if (err instanceof InputErrors) {
    return err.errors.map(formatOne).join('\n');
  }
  return formatOne(err);
}

function formatOne(err: unknown): string {
  if (isPromptInterrupted(err)) return 'interrupted';
  if (err instanceof KubeforgeError) {
    return err.hint ? `error: ${err.message}\n  hint: ${err.hint}` : `error: ${err.message}`;
  }
  if (err instanceof Error) return `error: ${err.message}`;
  return `error: ${String(err)}`;
}

/** Ctrl-C at an @inquirer prompt rejects it with an ExitPromptError. */
function isPromptInterrupted(err: unknown): boolean {
  return err instanceof Error && err.name === 'ExitPromptError';
}

export function exitCodeOf(err: unknown): number {
  if (isPromptInterrupted(err)) return ExitCode.interrupted;
  return err instanceof KubeforgeError ? err.exitCode : ExitCode.hostsFailed;
}
