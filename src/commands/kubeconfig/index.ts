// `kubeforge kubeconfig`: print the cluster's admin kubeconfig (saved by `up`), or merge it into
// $KUBECONFIG / ~/.kube/config. `up --merge-kubeconfig` uses the same merge at the end of a run.
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import path from 'node:path';
import { ExitCode, formatError, InputError } from '../../errors.js';
import { peekClusterName } from '../../inventory/peek.js';
import { showPath } from '../../inventory/problem.js';
import type { Cluster } from '../../model.js';
import { defaultKubeconfigPath } from '../../run/orchestrate.js';
import { shellQuote } from '../../ssh/quote.js';
import { adminEntries, entryNames, standaloneKubeconfig, type AdminEntries } from './entries.js';
import { mergeKubeconfig } from './merge.js';
import { kubeconfigTarget, readKubeconfig, replaceKubeconfig, resolveTarget } from './target.js';

export interface KubeconfigFlags {
  inventory: string;
  merge?: boolean;
  server?: string;
}

/** --server: where kubectl reaches the API server from here, when admin.conf's address is not. */
export function parseServer(value: string): string {
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  const example = 'e.g. --server https://203.0.113.10:6443 (the API server as this machine reaches it)';
  if (!url || url.protocol !== 'https:' || url.hostname === '') throw new InputError('--server', `"${value}" is not an https:// URL`, example);
  if (url.username !== '' || url.password !== '') throw new InputError('--server', 'carries a user name or password', example);
  return value.replace(/\/+$/, '');
}

/** The admin kubeconfig `up` saved for the inventory's cluster, renamed for merging. */
export async function loadAdmin(inventory: string, server?: string): Promise<AdminEntries> {
  const name = await peekClusterName(inventory);
  // Only the name and the inventory's folder decide where `up` saved it.
  const file = defaultKubeconfigPath({ name, inventoryPath: path.resolve(inventory) } as Cluster);
  const text = await readKubeconfig(file);
  if (text === undefined) {
    throw new InputError(showPath(file), `there is no admin kubeconfig for cluster ${name} yet`, `run \`kubeforge up -i ${shellQuote(inventory)}\` first: it saves the cluster's admin.conf there`);
  }
  return adminEntries(text, file, name, server);
}

function targetOf(env: NodeJS.ProcessEnv): Promise<string> {
  return resolveTarget(kubeconfigTarget(env, env.HOME || homedir()));
}

/** Reads and checks the file a merge would write, so `up --merge-kubeconfig` fails before any host is touched. */
export async function checkMergeTarget(env: NodeJS.ProcessEnv): Promise<string> {
  const file = await targetOf(env);
  const names = entryNames('check');
  const placeholder: AdminEntries = { names, cluster: { name: names.cluster }, user: { name: names.user }, context: { name: names.context } };
  mergeKubeconfig(await readKubeconfig(file), file, placeholder);
  return file;
}

/** Merges the cluster's entries into the target kubeconfig; returns the lines that tell what happened. */
export async function mergeAdmin(admin: AdminEntries, env: NodeJS.ProcessEnv): Promise<string[]> {
  const file = await targetOf(env);
  const previous = await readKubeconfig(file);
  const merged = mergeKubeconfig(previous, file, admin);
  const { names } = admin;
  if (!merged.changed) return [`kubeconfig: ${file} already holds cluster ${names.cluster}, user ${names.user} and context ${names.context} as they are; nothing written`, ...switchHint(merged.currentContext, names.context)];
  const { backup } = await replaceKubeconfig(file, merged.text, previous);
  const e = merged.entries;
  return [
    `kubeconfig: merged into ${file} (mode 0600): cluster ${names.cluster} ${e.cluster}, user ${names.user} ${e.user}, context ${names.context} ${e.context}; other entries untouched`,
    ...(backup ? [`kubeconfig: the previous file is kept as ${backup}`] : []),
    ...(merged.currentContextSet ? [`kubeconfig: current-context set to ${names.context} (there was none)`] : switchHint(merged.currentContext, names.context)),
  ];
}

// The current context is the user's choice: a merge never switches it away from another cluster.
function switchHint(current: string, ours: string): string[] {
  return current === ours ? [] : [`kubeconfig: current-context stays ${current}; to use this cluster: kubectl config use-context ${ours}`];
}

export async function kubeconfigCommand(flags: KubeconfigFlags): Promise<number> {
  const server = flags.server === undefined ? undefined : parseServer(flags.server);
  const admin = await loadAdmin(flags.inventory, server);
  if (!flags.merge) {
    process.stdout.write(standaloneKubeconfig(admin));
    return 0;
  }
  for (const line of await mergeAdmin(admin, process.env)) process.stdout.write(line + '\n');
  return 0;
}

export interface FinishedUp {
  exitCode: number;
  /** Where `up` saved admin.conf, when the init host got that far. */
  kubeconfigPath: string | undefined;
  clusterName: string;
  inventory: string;
}

/**
 * `up --merge-kubeconfig`, once the run is over: merges when it succeeded. A merge that fails
 * now (the file changed during the run) makes the exit code 1; the cluster itself is up.
 */
export async function mergeAfterUp(run: FinishedUp, env: NodeJS.ProcessEnv, say: (line: string) => void): Promise<number> {
  const later = `kubeforge kubeconfig -i ${shellQuote(run.inventory)} --merge`;
  if (run.exitCode !== 0 || run.kubeconfigPath === undefined) {
    say(`kubeconfig: not merged, as the run did not succeed; once it does: ${later}`);
    return run.exitCode;
  }
  try {
    const admin = adminEntries(await readFile(run.kubeconfigPath, 'utf8'), run.kubeconfigPath, run.clusterName);
    for (const line of await mergeAdmin(admin, env)) say(line);
    return run.exitCode;
  } catch (err) {
    say(formatError(err));
    say(`kubeconfig: not merged; the cluster is up: fix the cause, then ${later}`);
    return ExitCode.hostsFailed;
  }
}
