// `kubeforge backup`: an etcd snapshot taken on a control plane (etcdctl in the etcd Pod),
// verified there (etcdutl snapshot status), brought here with its sha256 and the cluster's PKI.
// Everything lands in a hidden partial directory first and is renamed into place only when every
// file arrived and matched the host's sha256: a backup directory is whole or absent.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { PKI_ARCHIVE, SNAPSHOT_FILE, removeSnapshotDir, takeSnapshot, type TakenSnapshot } from '../../cluster/etcd-snapshot.js';
import { Redactor } from '../../cluster/secrets.js';
import { InputError } from '../../errors.js';
import { loadInventory } from '../../inventory/index.js';
import { showPath } from '../../inventory/problem.js';
import { newRunId, type RunRecord } from '../../ledger/ledger.js';
import { recordStep, writeOperation } from '../../ledger/operation.js';
import type { Host } from '../../model.js';
import type { HostResult, StepResult } from '../../run/outcome.js';
import type { Remote } from '../../run/remote.js';
import { sshConnector } from '../../ssh/remote.js';
import { backupDir, backupStamp, MANIFEST_FILE, manifestText, partialDir, sha256Line, SNAPSHOT_SHA256_FILE } from './layout.js';

export interface BackupFlags {
  inventory: string;
  output?: string;
}

/** Fetches one file of the snapshot directory and checks it against the host's sha256. */
async function fetchChecked(remote: Remote, taken: TakenSnapshot, file: typeof SNAPSHOT_FILE | typeof PKI_ARCHIVE, into: string, signal: AbortSignal): Promise<void> {
  if (!remote.download) throw new Error('this connection cannot download files');
  const got = await remote.download(`${taken.dir}/${file}`, path.join(into, file), { signal });
  if (got.sha256 !== taken.sha256[file] || got.size !== taken.size[file]) {
    throw new Error(`${file} arrived damaged: sha256 ${got.sha256} (${got.size} bytes) here, ${taken.sha256[file]} (${taken.size[file]} bytes) on ${remote.name}`);
  }
}

async function writePrivate(file: string, text: string): Promise<void> {
  await fs.writeFile(file, text, { mode: 0o600, flag: 'wx' });
}

export async function backupCommand(flags: BackupFlags): Promise<number> {
  const out = (line: string) => process.stdout.write(line + '\n');
  const inventoryPath = path.resolve(flags.inventory);
  const { cluster } = await loadInventory(flags.inventory);
  const outputDir = path.resolve(flags.output ?? path.join(path.dirname(inventoryPath), 'backups'));
  const stat = await fs.stat(outputDir).catch(() => undefined);
  if (stat && !stat.isDirectory()) throw new InputError('--output', `${showPath(outputDir)} is not a directory`, 'name a directory (it is created when missing)');
  const controlPlanes = cluster.hosts.filter((h) => h.role === 'control-plane');

  const started = new Date();
  const finalDir = backupDir(outputDir, cluster.name, started);
  const partial = partialDir(finalDir, randomBytes(4).toString('hex'));
  const redactor = new Redactor();
  const controller = new AbortController();
  const onSigint = () => controller.abort(new Error('interrupted'));
  process.once('SIGINT', onSigint);
  const ctx = { signal: controller.signal, redact: redactor.redact };
  const connect = sshConnector();
  const steps: StepResult[] = [];
  let host: Host | undefined;
  let remote: Remote | undefined;
  let taken: TakenSnapshot | undefined;
  let error: string | undefined;
  try {
    // The first control plane that answers (the init host unless it is down): every member holds all of etcd.
    const unreachable: string[] = [];
    for (const candidate of controlPlanes) {
      try {
        remote = await connect(candidate, controller.signal);
        host = candidate;
        break;
      } catch (err) {
        unreachable.push(`${candidate.name}: ${(err as Error).message}`);
        if (controller.signal.aborted) throw err;
      }
    }
    if (!remote || !host) throw new Error(`no control plane could be reached (${unreachable.join('; ')})`);
    const on = remote;
    taken = await recordStep(steps, 'backup/snapshot', 'etcd snapshot taken and verified', async () => {
      const t = await takeSnapshot(on, backupStamp(started).toLowerCase(), ctx);
      return { value: t, detail: `revision ${t.status.revision}, ${t.status.totalKey} keys, ${t.status.totalSize} bytes, hash ${t.status.hash}` };
    });
    out(`${host.name}: etcd snapshot saved and verified: revision ${taken.status.revision}, ${taken.status.totalKey} keys, ${taken.status.totalSize} bytes (etcdutl snapshot status hash ${taken.status.hash})`);
    const snap = taken;
    await recordStep(steps, 'backup/fetch', 'snapshot and PKI brought here, sha256 checked', async () => {
      await fs.mkdir(outputDir, { recursive: true, mode: 0o700 });
      await fs.mkdir(partial, { mode: 0o700 });
      await fetchChecked(on, snap, SNAPSHOT_FILE, partial, controller.signal);
      await fetchChecked(on, snap, PKI_ARCHIVE, partial, controller.signal);
      await writePrivate(path.join(partial, SNAPSHOT_SHA256_FILE), sha256Line(snap.sha256[SNAPSHOT_FILE]));
      await writePrivate(path.join(partial, MANIFEST_FILE), manifestText({
        cluster: cluster.name,
        kubernetesVersion: cluster.kubernetes.version.text,
        takenAt: started.toISOString(),
        host: on.name,
        snapshot: { file: SNAPSHOT_FILE, sha256: snap.sha256[SNAPSHOT_FILE], size: snap.size[SNAPSHOT_FILE], status: snap.status },
        pki: { file: PKI_ARCHIVE, sha256: snap.sha256[PKI_ARCHIVE], size: snap.size[PKI_ARCHIVE] },
      }));
      await fs.rename(partial, finalDir);
      return { value: undefined, detail: finalDir };
    });
    out(`backup: ${finalDir}`);
    out(`  ${SNAPSHOT_FILE}  ${taken.size[SNAPSHOT_FILE]} bytes, sha256 ${taken.sha256[SNAPSHOT_FILE]}`);
    out(`  ${PKI_ARCHIVE}      ${taken.size[PKI_ARCHIVE]} bytes (holds the cluster's private keys: keep it as safe as the cluster)`);
  } catch (err) {
    error = redactor.redact((err as Error).message);
    process.stderr.write(`error: backup failed${host ? ` on ${host.name}` : ''}: ${error}\n  no backup was written (nothing half-written is left in ${outputDir})\n`);
  } finally {
    process.off('SIGINT', onSigint);
    await fs.rm(partial, { recursive: true, force: true }).catch(() => undefined);
    if (remote && taken) await removeSnapshotDir(remote, taken.dir, { ...ctx, signal: AbortSignal.timeout(30_000) }).catch(() => undefined);
    remote?.close();
  }
  const exitCode = controller.signal.aborted ? 130 : error ? 1 : 0;
  const result: HostResult = { host: host?.name ?? controlPlanes[0]!.name, role: 'control-plane', status: error ? (controller.signal.aborted ? 'cancelled' : 'failed') : 'ok', steps, ...(error ? { reason: error } : {}) };
  const record: RunRecord = {
    id: newRunId(started),
    command: 'backup',
    inventory: inventoryPath,
    startedAt: started.toISOString(),
    finishedAt: new Date().toISOString(),
    durationMs: Date.now() - started.getTime(),
    exitCode,
    interrupted: controller.signal.aborted,
    hosts: [result],
  };
  await writeOperation(inventoryPath, record);
  return exitCode;
}
