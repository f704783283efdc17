import { describe, expect, it } from 'vitest';
import { parseSnapshotReport, removeSnapshotDir } from './etcd-snapshot.js';
import type { Remote } from '../run/remote.js';

const A = 'a'.repeat(64);
const B = 'b'.repeat(64);

describe('the snapshot report from the host', () => {
  it('reads etcdutl snapshot status and each file\'s size and sha256', () => {
    const report = parseSnapshotReport(
      `status {"hash":3474280765,"revision":12,"totalKey":22,"totalSize":4096,"version":"3.5.0"}\nfile etcd-snapshot.db 4096 ${A}\nfile pki.tar.gz 900 ${B}\n`,
    );
    expect(report.status).toEqual({ hash: 3474280765, revision: 12, totalKey: 22, totalSize: 4096, version: '3.5.0' });
    expect(report.sha256).toEqual({ 'etcd-snapshot.db': A, 'pki.tar.gz': B });
    expect(report.size['etcd-snapshot.db']).toBe(4096);
  });

  it('refuses a snapshot that was not verified, or a file without its hash', () => {
    expect(() => parseSnapshotReport(`file etcd-snapshot.db 4096 ${A}\nfile pki.tar.gz 900 ${B}\n`)).toThrow(/not verified/);
    expect(() => parseSnapshotReport('status {"hash":1}\n')).toThrow(/no hash\/revision/);
    expect(() => parseSnapshotReport(`status {"hash":1,"revision":1,"totalKey":1,"totalSize":1}\nfile etcd-snapshot.db 4096 ${A}\n`)).toThrow(/no sha256 for pki.tar.gz/);
  });

  it('removes only a directory it made', async () => {
    const remote = { name: 'cp', exec: async () => ({ code: 0, stdout: '', stderr: '' }) } as unknown as Remote;
    const ctx = { signal: new AbortController().signal, redact: (t: string) => t };
    await expect(removeSnapshotDir(remote, '/var/lib/etcd', ctx)).rejects.toThrow(/refusing/);
    await expect(removeSnapshotDir(remote, '/var/lib/etcd/kubeforge-backup-x', ctx)).resolves.toBeUndefined();
  });
});
