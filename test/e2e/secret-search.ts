// Searching what a run left behind for secrets: texts, and every regular file of a directory
// tree (read from this machine: a full host's overlay upper layer holds everything written to
// its disk, /proc/<init>/root/<dir> its tmpfs mounts).
import fs from 'node:fs/promises';
import path from 'node:path';

export interface Secret {
  /** What it is, for messages: never the value itself. */
  name: string;
  value: string;
}

export interface Finding {
  secret: string;
  where: string;
}

/** Which secrets occur in `text`; `where` names the text in the findings. */
export function findSecrets(text: string | Buffer, secrets: Secret[], where: string): Finding[] {
  const buffer = typeof text === 'string' ? Buffer.from(text) : text;
  return secrets.filter((s) => buffer.includes(Buffer.from(s.value))).map((s) => ({ secret: s.name, where }));
}

export interface TreeSearch {
  findings: Finding[];
  /** Regular files read, to show the search looked at something. */
  filesRead: number;
}

/**
 * Every regular file below `root` (symlinks not followed; other mounts below it are searched
 * too), except the paths in `skip` (relative to root). Files larger than maxBytes are skipped.
 */
export async function searchTree(root: string, secrets: Secret[], skip: string[] = [], maxBytes = 256 * 1024 * 1024): Promise<TreeSearch> {
  const findings: Finding[] = [];
  let filesRead = 0;
  const skipped = new Set(skip.map((p) => path.join(root, p)));
  const walk = async (dir: string): Promise<void> => {
    let entries;
    try {
      entries = await fs.readdir(dir, { withFileTypes: true });
    } catch {
      return; // vanished meanwhile, or not a directory we may read
    }
    for (const entry of entries) {
      const full = path.join(dir, entry.name);
      if (skipped.has(full)) continue;
      if (entry.isDirectory()) await walk(full);
      else if (entry.isFile()) {
        const st = await fs.stat(full).catch(() => undefined);
        if (!st || st.size > maxBytes) continue;
        const content = await fs.readFile(full).catch(() => undefined);
        if (!content) continue;
        filesRead++;
        findings.push(...findSecrets(content, secrets, full));
      }
    }
  };
  await walk(root);
  return { findings, filesRead };
}
