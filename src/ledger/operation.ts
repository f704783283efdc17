// Day-two operations (certs renew, backup) in the ledger: a run record under runs/, like `up`'s,
// but neither last-run.json nor the host state: those say how the hosts' latest `up` went, which
// is what `status` and `up --retry-failed` read, and a certificate renewal does not change it.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { TOKEN_PATTERN } from '../cluster/secrets.js';
import type { StepResult } from '../run/outcome.js';
import { boundRecord, ledgerDir, type RunRecord } from './ledger.js';

export async function writeOperation(inventoryPath: string, record: RunRecord): Promise<string> {
  const dir = path.join(ledgerDir(inventoryPath), 'runs');
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  const text = (JSON.stringify(boundRecord(record), null, 2) + '\n').replace(TOKEN_PATTERN, '[redacted-token]');
  const file = path.join(dir, `${record.id}.json`);
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  await fs.writeFile(tmp, text, { mode: 0o600 });
  await fs.rename(tmp, file);
  return file;
}

/** Runs one step of an operation, timing it and recording how it ended (errors are rethrown). */
export async function recordStep<T>(
  steps: StepResult[],
  key: string,
  title: string,
  work: () => Promise<{ value: T; detail?: string }>,
): Promise<T> {
  const started = Date.now();
  const startedAt = new Date(started).toISOString();
  try {
    const { value, detail } = await work();
    steps.push({ key, title, status: 'changed', startedAt, durationMs: Date.now() - started, ...(detail ? { detail } : {}) });
    return value;
  } catch (err) {
    const e = err as Error & { exitCode?: number; output?: string };
    steps.push({
      key,
      title,
      status: 'failed',
      startedAt,
      durationMs: Date.now() - started,
      error: { message: e.message, ...(typeof e.exitCode === 'number' ? { exitCode: e.exitCode } : {}), ...(e.output ? { output: e.output } : {}) },
    });
    throw err;
  }
}
