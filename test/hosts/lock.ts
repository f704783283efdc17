// A directory lock that survives crashes: the holder's pid is written inside, and a lock whose
// holder is gone is taken over. Used for the shared root-filesystem cache and for fleet slots.
import fs from 'node:fs/promises';
import path from 'node:path';
import { sleep } from './exec.js';

export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function holder(dir: string): Promise<number | undefined> {
  try {
    const text = await fs.readFile(path.join(dir, 'owner.pid'), 'utf8');
    const pid = Number(text.trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Try once to take the lock dir; returns true when this process now holds it. */
export async function tryLock(dir: string): Promise<boolean> {
  await fs.mkdir(path.dirname(dir), { recursive: true });
  try {
    await fs.mkdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    return false;
  }
  await fs.writeFile(path.join(dir, 'owner.pid'), `${process.pid}\n`);
  return true;
}

/** Whether the lock dir exists but its holder is dead (or never wrote its pid). */
export async function isStale(dir: string): Promise<boolean> {
  try {
    await fs.stat(dir);
  } catch {
    return false;
  }
  const pid = await holder(dir);
  if (pid === undefined) {
    // A holder that crashed between mkdir and writing its pid: stale once it is old.
    const st = await fs.stat(dir);
    return Date.now() - st.mtimeMs > 30_000;
  }
  return !pidAlive(pid);
}

export async function withLock<T>(dir: string, fn: () => Promise<T>, waitMs = 15 * 60_000): Promise<T> {
  const deadline = Date.now() + waitMs;
  while (!(await tryLock(dir))) {
    if (await isStale(dir)) {
      await fs.rm(dir, { recursive: true, force: true });
      continue;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for lock ${dir}`);
    await sleep(500);
  }
  try {
    return await fn();
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}
