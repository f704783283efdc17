// The ledger: .kubeforge/ beside the inventory keeps a record of every run (per host and step:
// status, fingerprint, timings, error with the command's exit code and last output lines) and
// from it the set of hosts a rerun should retry. It never holds a secret: everything in it has
// been through the run's redactor, and token-shaped strings are scrubbed once more on writing.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { TOKEN_PATTERN } from '../cluster/secrets.js';
import type { HostResult, StepResult } from '../run/outcome.js';
import { boundedTail, cutLine, OUTPUT_BOUNDS } from '../run/remote.js';

export interface RunRecord {
  id: string;
  command: string;
  inventory: string;
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  exitCode: number;
  /** Hosts this run was limited to (reruns, --limit), or undefined for all. */
  limitedTo?: string[];
  interrupted: boolean;
  hosts: HostResult[];
  kubeconfigPath?: string;
}

export function ledgerDir(inventoryPath: string): string {
  return path.join(path.dirname(path.resolve(inventoryPath)), '.kubeforge');
}

export function newRunId(now = new Date()): string {
  return `${now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}-${randomBytes(3).toString('hex')}`;
}

async function writeAtomic(file: string, content: string): Promise<void> {
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  await fs.writeFile(tmp, content, { mode: 0o600 });
  await fs.rename(tmp, file);
}

/** Per host, the outcome of the latest run that included it: what --retry-failed reads. */
export interface HostState {
  status: HostResult['status'];
  /** The command of that run (up, reset); absent in ledgers written before reset existed (up). */
  command?: string;
  reason?: string;
  runId: string;
  at: string;
}
export type LedgerState = Record<string, HostState>;

/**
 * The most a record keeps of one text: the output of a failed step as the runner keeps it
 * (OUTPUT_BOUNDS: last 20 lines, 4 KiB), other texts (messages, hints, reasons) 2 KiB each.
 * The runner already bounds what it records; this is the last net, so that no step, whatever
 * produced it, can put megabytes into the ledger.
 */
export const LEDGER_TEXT_BYTES = 2048;

function boundText(text: string): string;
function boundText(text: string | undefined): string | undefined;
function boundText(text: string | undefined): string | undefined {
  // Scrubbed before it is cut: a token cut in half would no longer look like one.
  return text === undefined ? undefined : cutLine(scrub(text), LEDGER_TEXT_BYTES);
}

function scrub(text: string): string {
  return text.replace(TOKEN_PATTERN, '[redacted-token]');
}

function boundStep(step: StepResult): StepResult {
  const bounded: StepResult = { ...step, key: boundText(step.key), title: boundText(step.title) };
  if (step.detail !== undefined) bounded.detail = boundText(step.detail);
  if (step.error) {
    const { output, hint, ...error } = step.error;
    bounded.error = {
      ...error,
      message: boundText(error.message),
      ...(output !== undefined ? { output: boundedTail(scrub(output), { lines: OUTPUT_BOUNDS.lines, bytes: OUTPUT_BOUNDS.bytes }) } : {}),
      ...(hint !== undefined ? { hint: boundText(hint) } : {}),
    };
  }
  return bounded;
}

/** The record with every text in it bounded (see LEDGER_TEXT_BYTES). */
export function boundRecord(record: RunRecord): RunRecord {
  return {
    ...record,
    hosts: record.hosts.map((host) => ({
      ...host,
      steps: host.steps.map(boundStep),
      ...(host.reason !== undefined ? { reason: boundText(host.reason) } : {}),
      ...(host.node ? { node: { ...host.node, message: boundText(host.node.message) } } : {}),
      ...(host.warnings ? { warnings: host.warnings.slice(0, OUTPUT_BOUNDS.lines).map((w) => boundText(w)) } : {}),
    })),
  };
}

/** Records a run: runs/<id>.json, last-run.json (the newest), and the merged host state. */
export async function writeRun(inventoryPath: string, record: RunRecord): Promise<string> {
  const dir = ledgerDir(inventoryPath);
  await fs.mkdir(path.join(dir, 'runs'), { recursive: true, mode: 0o700 });
  await fs.chmod(dir, 0o700);
  // Everything in a record already went through the run's redactor; this is the last net,
  // for a token kubeadm minted that no redactor knew of.
  const text = (JSON.stringify(boundRecord(record), null, 2) + '\n').replace(TOKEN_PATTERN, '[redacted-token]');
  const file = path.join(dir, 'runs', `${record.id}.json`);
  await writeAtomic(file, text);
  await writeAtomic(path.join(dir, 'last-run.json'), text);
  const state = (await readState(inventoryPath)) ?? {};
  for (const h of record.hosts) {
    state[h.host] = { status: h.status, command: record.command, ...(h.reason ? { reason: boundText(h.reason) } : {}), runId: record.id, at: record.finishedAt };
  }
  await writeAtomic(path.join(dir, 'state.json'), JSON.stringify(state, null, 2) + '\n');
  return file;
}

/** A ledger file, or undefined when none was written yet. */
async function readLedgerFile<T>(inventoryPath: string, name: string): Promise<T | undefined> {
  try {
    return JSON.parse(await fs.readFile(path.join(ledgerDir(inventoryPath), name), 'utf8')) as T;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

export function readState(inventoryPath: string): Promise<LedgerState | undefined> {
  return readLedgerFile<LedgerState>(inventoryPath, 'state.json');
}

export function readLastRun(inventoryPath: string): Promise<RunRecord | undefined> {
  return readLedgerFile<RunRecord>(inventoryPath, 'last-run.json');
}
/**
 * The hosts a `--retry-failed` run takes: those whose latest `up` failed, was blocked or was
 * cancelled. State merges across runs, so a limited run does not forget the other hosts. A host
 * whose latest run was a reset is not retried (reset on purpose, or a reset to run again: `up`
 * would bring it back); a plain `kubeforge up` rejoins reset hosts.
 */
export function hostsToRetry(state: LedgerState): string[] {
  return Object.entries(state)
    .filter(([, h]) => h.status !== 'ok' && h.status !== 'reset' && (h.command ?? 'up') === 'up')
    .map(([name]) => name);
}

/** Hosts whose latest run was a reset: done ('reset'), or to run again (anything else). */
export function hostsReset(state: LedgerState): { done: string[]; failed: string[] } {
  const resets = Object.entries(state).filter(([, h]) => h.command === 'reset');
  return { done: resets.filter(([, h]) => h.status === 'reset').map(([n]) => n), failed: resets.filter(([, h]) => h.status !== 'reset').map(([n]) => n) };
}
