// A quick look at an inventory for commands that need one or two of its values and nothing
// that loading it does (bundles hashed or fetched, key files and secrets checked): the cluster
// name for `kubeforge kubeconfig`, the host names for shell completion. Never connects.
import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';
import { InputError } from '../errors.js';
import { DNS1123_LABEL, DNS1123_LABEL_RULE } from './k8s-names.js';
import { parseInventoryText } from './parse.js';
import { locate } from './positions.js';
import { showPath, showValue } from './problem.js';

/** The inventory's cluster.name, or an InputError at FILE:LINE:COL saying what is wrong. */
export async function peekClusterName(file: string): Promise<string> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new InputError(showPath(file), code === 'ENOENT' ? 'no such file' : `cannot be read (${code})`, 'give the path of the inventory YAML file with -i, e.g. -i inventory.yaml');
  }
  const parsed = parseInventoryText(bytes);
  if (!parsed.ok) {
    const first = parsed.errors[0]!;
    throw new InputError(`${showPath(file)}:${first.line}:${first.col}`, first.message, first.hint);
  }
  const cluster = parsed.value.cluster as { name?: unknown } | undefined;
  const name = cluster?.name;
  if (typeof name !== 'string' || !DNS1123_LABEL.test(name)) {
    const { line, col } = locate(parsed.doc, parsed.lineCounter, ['cluster', 'name']);
    const detail = name === undefined ? 'cluster.name is missing' : `cluster.name ${showValue(name)} is not ${DNS1123_LABEL_RULE}`;
    throw new InputError(`${showPath(file)}:${line}:${col}`, detail, 'the cluster is named in the inventory as cluster: {name: NAME}');
  }
  return name;
}

export interface PeekedHost {
  name: string;
  role?: string;
}

/**
 * The hosts' names and roles as far as they can be read; nothing (never an error) when the file
 * is missing or not an inventory. For shell completion, which must stay silent and fast.
 */
export async function peekHosts(file: string): Promise<PeekedHost[]> {
  try {
    const value = parse(await readFile(file, 'utf8'), { uniqueKeys: false }) as { hosts?: unknown } | null;
    if (!Array.isArray(value?.hosts)) return [];
    return value.hosts.flatMap((h: unknown) => {
      const host = h as { name?: unknown; role?: unknown } | null;
      if (typeof host?.name !== 'string' || !DNS1123_LABEL.test(host.name)) return [];
      return [{ name: host.name, ...(typeof host.role === 'string' ? { role: host.role } : {}) }];
    });
  } catch {
    return [];
  }
}
