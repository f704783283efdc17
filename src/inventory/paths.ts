// Paths as users write them in the inventory: relative to the inventory file, "~" for home.
import { join, resolve } from 'node:path';

/** "~" and "~/x" become the home directory; other paths (including "~user/x") are left alone. */
export function expandHome(path: string, home: string): string {
  if (path === '~') return home;
  if (path.startsWith('~/')) return join(home, path.slice(2));
  return path;
}

/** Absolute path of a file named in the inventory that lives in baseDir. */
export function resolveUserPath(path: string, baseDir: string, home: string): string {
  return resolve(baseDir, expandHome(path, home));
}
