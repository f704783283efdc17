import { describe, expect, it } from 'vitest';
import { backupDir, backupStamp, partialDir, sha256Line } from './layout.js';

describe('backup layout', () => {
  it('names a backup by cluster and time (UTC, to the second)', () => {
    const at = new Date('2026-12-02T10:15:00.123Z');
    expect(backupStamp(at)).toBe('20261202T101500Z');
    expect(backupDir('/b', 'prod', at)).toBe('/b/prod-20261202T101500Z');
  });

  it('keeps a partial backup hidden beside the final one (same folder: the rename is atomic)', () => {
    expect(partialDir('/b/prod-20261202T101500Z', 'ab12')).toBe('/b/.prod-20261202T101500Z.partial-ab12');
  });

  it("writes the sha256 in sha256sum's format", () => {
    expect(sha256Line('a'.repeat(64))).toBe(`${'a'.repeat(64)}  etcd-snapshot.db\n`);
  });
});
