// `kubeforge kubeconfig`: print the cluster's admin kubeconfig (saved by `up`), or merge it into
// $KUBECONFIG / ~/.kube/config. `up --merge-kubeconfig` uses the same merge at the end of a run.
import { homedir } from 'node:os';
import path from 'node:path';
import { InputError } from '../../errors.js';
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

export interface MergeOptions {
  env: NodeJS.ProcessEnv;
  home: string;
}

function homeOf(env: NodeJS.ProcessEnv): string {
  return env.HOME || homedir();
}

/** Reads and checks the file a merge would write, so `up --merge-kubeconfig` fails before any host is touched. */
export async function checkMergeTarget(options: MergeOptions): Promise<string> {
  const file = await resolveTarget(kubeconfigTarget(options.env, options.home));
  const placeholder: AdminEntries = { names: entryNames('check'), cluster: { name: 'check' }, user: { name: 'check-admin' }, context: { name: 'check' } };
  mergeKubeconfig(await readKubeconfig(file), file, placeholder);
  return file;
}

/** Merges the cluster's entries into the target kubeconfig; returns the lines that tell what happened. */
export async function mergeAdmin(admin: AdminEntries, options: MergeOptions): Promise<string[]> {
  const file = await resolveTarget(kubeconfigTarget(options.env, options.home));
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
  const env = process.env;
  for (const line of await mergeAdmin(admin, { env, home: homeOf(env) })) process.stdout.write(line + '\n');
  return 0;
}

export { homeOf };
