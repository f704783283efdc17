// The sha256 of each bundle file, remembered between runs: a multi-gigabyte image archive is read
// once, not at every `kubeforge up` (and what is read out of a file's content, such as an image
// archive's image names, is remembered by that content's sha256). A file is read again as soon as anything that a write changes
// is different: its size, its mtime, its ctime (set by the kernel on every write, rename or
// chmod, and not settable by anyone), its inode or device. A stale entry could at worst name a
// hash the host then fails to verify after the upload; it is never trusted further than that.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { hashFile, type FileDigest } from './hash-file.js';

interface Entry {
  /** dev:ino:size:mtimeNs:ctimeNs when the file was hashed. */
  stamp: string;
  sha256: string;
  size: number;
}

/** At most this many files (and contents) are remembered, the most recent ones. */
const MAX_ENTRIES = 256;

export class DigestCache {
  private entries: Map<string, Entry> | undefined;
  /** "sha256 what" → what was read out of that content. */
  private derived = new Map<string, unknown>();
  private changed = false;

  /** `file`: where the entries are kept (JSON); unreadable or missing means empty. */
  constructor(private readonly file: string) {}

  /** hashFile, unless the file is exactly as it was when last hashed. */
  async hash(file: string): Promise<FileDigest> {
    const entries = await this.load();
    const key = path.resolve(file);
    const before = await stampOf(key).catch(() => undefined);
    // Not there, or not a file: hashFile says so in its own words.
    if (before === undefined) return hashFile(key);
    const known = entries.get(key);
    if (known && known.stamp === before) return { sha256: known.sha256, size: known.size };
    const digest = await hashFile(key);
    // Kept only when nothing wrote the file while it was read.
    if ((await stampOf(key)) === before) {
      entries.delete(key);
      entries.set(key, { stamp: before, ...digest });
      this.changed = true;
    }
    return digest;
  }

  /**
   * What `read` gets out of the content with this sha256 (`what` names the reading and its
   * version), read once. Only plain JSON values; a failure is not remembered, and a remembered
   * value that `valid` refuses (an edited cache file) is read again.
   */
  async fromContent<T>(sha256: string, what: string, valid: (value: unknown) => value is T, read: () => Promise<T>): Promise<T> {
    await this.load();
    const key = `${sha256} ${what}`;
    const known = this.derived.get(key);
    if (valid(known)) return known;
    const value = await read();
    this.derived.set(key, value);
    this.changed = true;
    return value;
  }

  /** Writes the entries back when any was added (atomically; a failure to write is ignored). */
  async save(): Promise<void> {
    if (!this.changed || !this.entries) return;
    const files = Object.fromEntries([...this.entries].slice(-MAX_ENTRIES));
    const derived = Object.fromEntries([...this.derived].slice(-MAX_ENTRIES));
    const tmp = `${this.file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    try {
      await fs.mkdir(path.dirname(this.file), { recursive: true });
      await fs.writeFile(tmp, JSON.stringify({ files, derived }), { mode: 0o600 });
      await fs.rename(tmp, this.file);
      this.changed = false;
    } catch {
      await fs.rm(tmp, { force: true }).catch(() => undefined);
    }
  }

  private async load(): Promise<Map<string, Entry>> {
    if (this.entries) return this.entries;
    let parsed: unknown;
    try {
      parsed = JSON.parse(await fs.readFile(this.file, 'utf8'));
    } catch {
      parsed = {};
    }
    this.entries = new Map();
    const { files, derived } = (parsed && typeof parsed === 'object' ? parsed : {}) as { files?: unknown; derived?: unknown };
    for (const [key, value] of Object.entries(files && typeof files === 'object' ? files : {})) {
      const e = value as Partial<Entry> | null;
      if (e && typeof e.stamp === 'string' && typeof e.sha256 === 'string' && /^[0-9a-f]{64}$/.test(e.sha256) && typeof e.size === 'number') {
        this.entries.set(key, { stamp: e.stamp, sha256: e.sha256, size: e.size });
      }
    }
    for (const [key, value] of Object.entries(derived && typeof derived === 'object' ? derived : {})) this.derived.set(key, value);
    return this.entries;
  }
}

async function stampOf(file: string): Promise<string> {
  const s = await fs.stat(file, { bigint: true });
  return `${s.dev}:${s.ino}:${s.size}:${s.mtimeNs}:${s.ctimeNs}`;
}
