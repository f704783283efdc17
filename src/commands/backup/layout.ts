// Where a backup goes on this machine and what it holds (pure: names and texts only).
import path from 'node:path';
import { PKI_ARCHIVE, SNAPSHOT_FILE, type SnapshotStatus } from '../../cluster/etcd-snapshot.js';

export const SNAPSHOT_SHA256_FILE = `${SNAPSHOT_FILE}.sha256`;
export const MANIFEST_FILE = 'backup.json';

/** 20261202T101500Z: sortable, and safe in a file name on every system. */
export function backupStamp(at: Date): string {
  return at.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
}

/** DIR/NAME-STAMP: named by cluster and time. */
export function backupDir(outputDir: string, clusterName: string, at: Date): string {
  return path.join(outputDir, `${clusterName}-${backupStamp(at)}`);
}

/** Beside the final directory, hidden, so a half backup is never mistaken for one. */
export function partialDir(finalDir: string, unique: string): string {
  return path.join(path.dirname(finalDir), `.${path.basename(finalDir)}.partial-${unique}`);
}

/** sha256sum's format, so `sha256sum -c etcd-snapshot.db.sha256` checks it in the backup's folder. */
export function sha256Line(sha256: string, file = SNAPSHOT_FILE): string {
  return `${sha256}  ${file}\n`;
}

export interface BackupManifest {
  cluster: string;
  kubernetesVersion: string;
  takenAt: string;
  host: string;
  snapshot: { file: string; sha256: string; size: number; status: SnapshotStatus };
  pki: { file: string; sha256: string; size: number };
}

export function manifestText(m: BackupManifest): string {
  return JSON.stringify(m, null, 2) + '\n';
}

export { PKI_ARCHIVE, SNAPSHOT_FILE };
