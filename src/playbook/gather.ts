// The "gather" of the step runner, for many steps in one round trip: each step's marker, the
// sha256 and mode of its files, and the exit code of its check (of its verify, for a verifyOnly
// step), each check run in its own subshell with the step's own variables and timeout.
//
// The host looks at the steps in their order and stops after the first one that will act (its
// marker is not the plan's fingerprint, or its check fails) or fail (its verify fails, a check
// or verify times out): a later step's check or verify never runs before an earlier step acted,
// as when each step was gathered on its own. The laptop then decides from these facts (the
// files are compared there) and, once a step acted, gathers again for the steps after it.
// (A file edited on the host while its step's marker and check still hold is seen only by the
// laptop: the checks of the steps after it then ran once early, and run again after it acted.
// Checks and verifies only look, so that costs time, not correctness.)
import { randomBytes } from 'node:crypto';
import { REMOTE_BUNDLE_DIR, REMOTE_MARKER_DIR, REMOTE_STATE_DIR, type PlannedFile, type PlannedStep } from './plan.js';

/** What the host said about one step. */
export interface StepFacts {
  /** The fingerprint in the step's marker (of its last success); '' when it has none. */
  marker: string;
  /** sha256 and octal mode (as `stat -c %a` prints it) of each of its files that is a regular file. */
  files: Map<string, { sha256: string; mode: string }>;
  /** Its check, or its verify for a verifyOnly step; absent when it has neither. */
  probe?: ProbeResult;
}

export interface ProbeResult {
  /** Exit code, or 'timeout' when the step's timeout ended it. */
  code: number | 'timeout';
  /** How long it ran, as the host measured it. */
  ms: number;
  /** A failed verify's output (a check's output is not kept). */
  stdout: string;
  stderr: string;
}

export interface GatherRequest {
  script: string;
  env: Record<string, string>;
  /** The steps asked about: plan indices from, from + 1, ... (at least one). */
  from: number;
  count: number;
  nonce: string;
  /** Long enough for every check of the batch to run out its own timeout. */
  backstopMs: number;
  /** A failing check's output is kept too (GatherOptions.everyStep). */
  keepOutput: boolean;
}

export interface GatherOptions {
  /**
   * First create kubeforge's directories and sweep an interrupted run's leftovers, then run
   * this script (in a subshell, with these variables; what it prints and its failures are ignored).
   */
  prelude?: { script: string; env: Record<string, string> };
  /** Overrides every step's own timeout (--step-timeout). */
  stepTimeoutMs?: number;
  /** Most bytes of scripts and values in one request (the command line has a limit). */
  maxBytes?: number;
  /**
   * For `plan`, which acts on nothing: look at every step of the request (no stop after the
   * first that will act), and keep a failing check's output as a failing verify's is kept.
   */
  everyStep?: boolean;
}

/**
 * Leftovers of a run that lost its connection mid-step (a dead link, a killed sshd, a second
 * Ctrl-C): partial uploads, staging dirs, secret config files. Swept at the start of every run
 * on the host and after an interrupted one; never a file at a final path. A command runs only
 * when there is something to remove (a rerun usually finds nothing).
 */
/** kf_any PATH...: whether any of the (globbed) paths exists, a dangling link included. */
const KF_ANY = 'kf_any() { for kf_f in "$@"; do [ -e "$kf_f" ] || [ -L "$kf_f" ] && return 0; done; return 1; }';

export const SWEEP_TEMPORARIES = [
  KF_ANY,
  'kf_any "$KF_D1"/staging.* && rm -rf "$KF_D1"/staging.*',
  'kf_any "$KF_D1"/secrets/kubeadm-*.yaml && rm -f "$KF_D1"/secrets/kubeadm-*.yaml',
  'kf_any "$KF_D2"/.*.kubeforge-*.tmp && find "$KF_D2" -maxdepth 1 -name ".*.kubeforge-*.tmp" -type f -delete',
].join('\n');

/**
 * Succeeds when the first gather's prelude would change nothing here: kubeforge's directories
 * are there and SWEEP_TEMPORARIES would find none of its leftovers. Read-only; kept beside the
 * sweep so that the two name the same things.
 */
export const NOTHING_TO_SWEEP = [
  KF_ANY,
  '[ -d "$KF_D1" ] && [ -d "$KF_D2" ] && [ -d "$KF_D3" ] &&',
  '  ! kf_any "$KF_D1"/staging.* "$KF_D1"/secrets/kubeadm-*.yaml "$KF_D2"/.*.kubeforge-*.tmp',
].join('\n');

/** The part of the script that is the same for every request; the request adds its steps. */
const PROGRAM = String.raw`nl='
'
kf_records=
kf_record() { kf_records="$kf_records$*$nl"; }
kf_timeout=
if command -v timeout >/dev/null 2>&1; then kf_timeout=yes; fi
# Centiseconds since boot, without starting a process ("1$kf_csec - 100": "08" is not octal 8).
kf_now() { IFS='. ' read -r kf_sec kf_csec _ </proc/uptime; kf_now=$((kf_sec * 100 + 1$kf_csec - 100)); }
# kf_run SECONDS SCRIPT: the script under sh -eu, killed (with what it started) after SECONDS.
kf_run() {
  if [ -n "$kf_timeout" ]; then exec timeout -s KILL "$1" sh -euc "$2"; fi
  exec sh -euc "$2"
}
# kf_probe I check|verify: step I's check or verify in a subshell with only its own variables.
# A check's output is dropped (kept when KFG_KEEP is set); a verify's goes to this script's
# stdout and stderr between lines that say whose it is. False when it failed or timed out.
kf_probe() {
  eval "kf_s=\$KFG_$1_S kf_t=\$KFG_$1_T kf_tcs=\$KFG_$1_TCS"
  kf_rc=0
  kf_now; kf_t0=$kf_now
  if [ "$2" = verify ] || [ -n "$KFG_KEEP" ]; then
    printf '\n%s output %s\n' "$KFG_NONCE" "$1"
    printf '\n%s output %s\n' "$KFG_NONCE" "$1" >&2
    (kf_env_$1; kf_unset; kf_run "$kf_t" "$kf_s") </dev/null || kf_rc=$?
    printf '\n%s end %s\n' "$KFG_NONCE" "$1"
    printf '\n%s end %s\n' "$KFG_NONCE" "$1" >&2
  else
    (kf_env_$1; kf_unset; kf_run "$kf_t" "$kf_s") </dev/null >/dev/null 2>&1 || kf_rc=$?
  fi
  kf_now; kf_cs=$((kf_now - kf_t0))
  if [ -n "$kf_timeout" ] && { [ "$kf_rc" = 137 ] || [ "$kf_rc" = 124 ]; } && [ "$kf_cs" -ge $((kf_tcs - 1)) ]; then kf_rc=timeout; fi
  kf_record "$2 $1 $kf_rc $kf_cs"
  [ "$kf_rc" = 0 ]
}
# kf_step I check|verify|none: step I's marker (not for a verifyOnly step), then its probe.
# False once the step will act or has failed: the steps after it wait until it has acted.
kf_step() {
  kf_stop=0
  if [ "$2" != verify ]; then
    eval "kf_m=\$KFG_$1_M kf_fp=\$KFG_$1_FP"
    kf_have=
    if [ -f "$kf_m" ]; then read -r kf_have _ <"$kf_m" || true; fi
    kf_record "marker $1 $kf_have"
    [ "$kf_have" = "$kf_fp" ] || kf_stop=1
  fi
  if [ "$2" != none ]; then kf_probe "$1" "$2" || kf_stop=1; fi
  return $kf_stop
}
`;

const ENV_NAME = /^[A-Z_][A-Z0-9_]*$/;
/** MAX_ARG_STRLEN is 128 KiB, and the command line quotes every value (twice through sudo). */
const DEFAULT_MAX_BYTES = 48 * 1024;

function probeOf(step: PlannedStep): 'check' | 'verify' | 'none' {
  if (step.verifyOnly) return 'verify';
  return step.check ? 'check' : 'none';
}

function probeScript(step: PlannedStep): string | undefined {
  return step.verifyOnly ? step.verify : step.check;
}

export function markerName(step: PlannedStep): string {
  return `${step.playbook}.${step.id}`;
}

/**
 * The request for steps[from..]: as many as fit in maxBytes (always steps[from]). Values reach
 * the host only as exported variables; the script names variables and step numbers, never a value.
 */
export function gatherRequest(steps: PlannedStep[], from: number, opts: GatherOptions): GatherRequest {
  const nonce = `kubeforge-gather-${randomBytes(8).toString('hex')}`;
  const env: Record<string, string> = { KFG_NONCE: nonce, KFG_KEEP: opts.everyStep ? '1' : '', KF_D1: REMOTE_STATE_DIR, KF_D2: REMOTE_BUNDLE_DIR, KF_D3: REMOTE_MARKER_DIR, ...opts.prelude?.env };
  // One variable per distinct (name, value) of the steps' environments: most steps share them.
  const values = new Map<string, string>();
  const valueVar = (name: string, value: string): string => {
    const key = `${name}\0${value}`;
    let v = values.get(key);
    if (!v) {
      v = `KFG_V${values.size}`;
      values.set(key, v);
      env[v] = value;
    }
    return v;
  };
  const envFunctions: string[] = [];
  const calls: string[] = [];
  const files: string[] = [];
  let bytes = 0;
  let backstopMs = 60_000;
  let count = 0;
  for (let i = from; i < steps.length; i++) {
    const step = steps[i]!;
    const n = i - from;
    const script = probeScript(step);
    const stepBytes =
      (script?.length ?? 0) + step.fingerprint.length + step.files.reduce((s, f) => s + f.path.length, 0) + Object.entries(step.env).reduce((s, [k, v]) => s + k.length + v.length, 0);
    if (count > 0 && bytes + stepBytes > (opts.maxBytes ?? DEFAULT_MAX_BYTES)) break;
    bytes += stepBytes;
    count++;
    const probe = probeOf(step);
    if (probe !== 'verify') {
      env[`KFG_${n}_M`] = `${REMOTE_MARKER_DIR}/${markerName(step)}`;
      env[`KFG_${n}_FP`] = step.fingerprint;
    }
    if (script !== undefined) {
      const timeoutMs = opts.stepTimeoutMs ?? step.timeoutMs;
      env[`KFG_${n}_S`] = script;
      env[`KFG_${n}_T`] = String(timeoutMs / 1000);
      env[`KFG_${n}_TCS`] = String(Math.ceil(timeoutMs / 10));
      backstopMs += timeoutMs;
      const exports = Object.entries(step.env).map(([name, value]) => {
        if (!ENV_NAME.test(name)) throw new Error(`invalid environment variable name ${JSON.stringify(name)}`);
        return `${name}="$${valueVar(name, value)}"`;
      });
      envFunctions.push(`kf_env_${n}() { ${exports.length ? `export ${exports.join(' ')}` : ':'}; }`);
    }
    step.files.forEach((f, j) => {
      env[`KFG_${n}_F${j}`] = f.path;
      files.push(`KFG_${n}_F${j}`);
    });
    calls.push(`kf_step ${n} ${probe}`);
  }
  // The checks see their own variables only, not the request's.
  const own = new Set(steps.slice(from, from + count).flatMap((s) => Object.keys(s.env)));
  const unset = `kf_unset() { unset ${Object.keys(env).filter((name) => !own.has(name)).join(' ')}; }`;
  const script = [
    PROGRAM,
    unset,
    ...envFunctions,
    ...(opts.prelude
      ? [
          '{ [ -d "$KF_D1" ] && [ -d "$KF_D2" ] && [ -d "$KF_D3" ] || (umask 022; mkdir -p "$KF_D1" "$KF_D2" "$KF_D3"); } 2>/dev/null || true',
          `(\n${SWEEP_TEMPORARIES}\n${opts.prelude.script}\n) </dev/null >/dev/null 2>&1 || true`,
        ]
      : []),
    // Every file of the batch that is a regular file: one sha256sum and one stat for all.
    'set --',
    ...files.map((v) => `if [ -f "$${v}" ]; then set -- "$@" "$${v}"; fi`),
    'if [ $# -gt 0 ]; then',
    '  kf_sums=$(sha256sum -- "$@" 2>/dev/null) || true',
    '  kf_modes=$(stat -c "mode %a %n" -- "$@" 2>/dev/null) || true',
    '  kf_records="$kf_sums$nl$kf_modes$nl"',
    'fi',
    // Normally the host stops after the first step that will act; `plan` asks about every one.
    opts.everyStep ? calls.map((c) => `${c} || true`).join('\n') : `${calls.join(' && ')} || true`,
    `printf '\\n%s facts\\n%s' "$KFG_NONCE" "$kf_records"`,
  ]
    .filter(Boolean)
    .join('\n');
  return { script, env, from, count, nonce, backstopMs, keepOutput: opts.everyStep === true };
}

/** Why a gather's answer could not be read. */
export class GatherError extends Error {}

/**
 * The facts per plan index, for the steps the host looked at (it stops after the first step
 * that will act or fail: the steps after it are not in the map).
 */
export function parseGather(request: GatherRequest, steps: PlannedStep[], stdout: string, stderr: string): Map<number, StepFacts> {
  const header = `\n${request.nonce} facts\n`;
  const at = stdout.lastIndexOf(header);
  if (at < 0) throw new GatherError('the host printed no step facts');
  const before = stdout.slice(0, at);
  const sums = new Map<string, string>();
  const modes = new Map<string, string>();
  const facts = new Map<number, StepFacts>();
  const factsOf = (n: number): StepFacts => {
    const index = request.from + n;
    let f = facts.get(index);
    if (!f) {
      f = { marker: '', files: new Map() };
      facts.set(index, f);
    }
    return f;
  };
  for (const line of stdout.slice(at + header.length).split('\n')) {
    // sha256sum: "<64 hex>  <path>" (a path it had to escape starts with "\": left out, so rewritten).
    const sum = /^([0-9a-f]{64}) [ *](.*)$/.exec(line);
    if (sum) {
      sums.set(sum[2]!, sum[1]!);
      continue;
    }
    const [kind, a, b, c] = line.split(' ');
    if (kind === 'mode' && a && b !== undefined) {
      modes.set(line.slice(`mode ${a} `.length), a);
    } else if (kind === 'marker' && a !== undefined) {
      factsOf(Number(a)).marker = b ?? '';
    } else if ((kind === 'check' || kind === 'verify') && a !== undefined && b !== undefined) {
      const n = Number(a);
      const code = b === 'timeout' ? 'timeout' : Number(b);
      const probe: ProbeResult = { code, ms: Number(c ?? 0) * 10, stdout: '', stderr: '' };
      if ((kind === 'verify' || request.keepOutput) && code !== 0) {
        probe.stdout = between(before, request.nonce, n);
        probe.stderr = between(stderr, request.nonce, n);
      }
      factsOf(n).probe = probe;
    }
  }
  for (const [index, f] of facts) {
    for (const file of steps[index]!.files) {
      const sha256 = sums.get(file.path);
      const mode = modes.get(file.path);
      if (sha256 && mode) f.files.set(file.path, { sha256, mode });
    }
  }
  return facts;
}

/**
 * What probe n printed on one stream: from its "output" line to its "end" line, or to the end of
 * the stream when it has none (a probe killed with the host's shell).
 */
function between(stream: string, nonce: string, n: number): string {
  const start = `\n${nonce} output ${n}\n`;
  const at = stream.lastIndexOf(start);
  if (at < 0) return '';
  const from = at + start.length;
  const end = stream.indexOf(`\n${nonce} end ${n}\n`, from);
  return end < 0 ? stream.slice(from) : stream.slice(from, end);
}

/** The step's files whose content or mode is not the plan's (missing ones included). */
export function filesThatDiffer(step: PlannedStep, facts: StepFacts): PlannedFile[] {
  // Modes count too: the right content with the wrong mode (a secret left readable) is wrong.
  return step.files.filter((f) => {
    const have = facts.files.get(f.path);
    return !have || have.sha256 !== f.sha256 || have.mode !== f.mode.toString(8);
  });
}
