// The cluster's admin kubeconfig as kubeforge hands it out: kubeadm's admin.conf with its
// entries renamed after the cluster, so that two clusters never share a name in one
// ~/.kube/config. kubeadm names them cluster "NAME", user "kubernetes-admin" and context
// "kubernetes-admin@NAME": the user's name is the same for every kubeadm cluster, so a second
// cluster merged under kubeadm's names would overwrite the first one's credentials.
import { isMap, isSeq, LineCounter, parseDocument, stringify } from 'yaml';
import { InputError } from '../../errors.js';
import { showPath } from '../../inventory/problem.js';

/** The names kubeforge gives a cluster's entries in a kubeconfig. */
export interface EntryNames {
  cluster: string;
  user: string;
  context: string;
}

export function entryNames(clusterName: string): EntryNames {
  return { cluster: clusterName, user: `${clusterName}-admin`, context: clusterName };
}

/** One cluster's three kubeconfig entries, each as kubectl writes it: {name, cluster|user|context}. */
export interface AdminEntries {
  names: EntryNames;
  cluster: Record<string, unknown>;
  user: Record<string, unknown>;
  context: Record<string, unknown>;
}

type Named = { name?: unknown } & Record<string, unknown>;

function entries(doc: Record<string, unknown>, list: 'clusters' | 'users' | 'contexts'): Named[] {
  const items = doc[list];
  return Array.isArray(items) ? items.filter((i): i is Named => i !== null && typeof i === 'object') : [];
}

/**
 * The admin entries of admin.conf (`text`, read from `file`), renamed after the cluster, with
 * the cluster's server replaced by `server` when given. The context admin.conf's current-context
 * names is the one taken (kubeadm writes exactly one of each).
 */
export function adminEntries(text: string, file: string, clusterName: string, server?: string): AdminEntries {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: false });
  const broken = (detail: string, offset = 0) => {
    const { line, col } = lineCounter.linePos(offset);
    return new InputError(`${showPath(file)}:${line}:${col}`, detail, 'run `kubeforge up` again: it fetches admin.conf from the init host anew');
  };
  if (doc.errors.length > 0) throw broken(`is not valid YAML: ${doc.errors[0]!.message.split('\n')[0]}`, doc.errors[0]!.pos[0]);
  if (!isMap(doc.contents)) throw broken('is not a kubeconfig (no mapping at the top)');
  const value = doc.toJS() as Record<string, unknown>;
  const contexts = entries(value, 'contexts');
  const current = contexts.find((c) => c.name === value['current-context']) ?? (contexts.length === 1 ? contexts[0] : undefined);
  const context = current?.context as Record<string, unknown> | undefined;
  const cluster = entries(value, 'clusters').find((c) => c.name === context?.cluster)?.cluster as Record<string, unknown> | undefined;
  const user = entries(value, 'users').find((u) => u.name === context?.user)?.user as Record<string, unknown> | undefined;
  if (!context || !cluster || !user) {
    const list = isSeq(doc.contents.get('contexts', true)) ? (doc.contents.get('contexts', true) as { range?: [number, number, number] }).range?.[0] : 0;
    throw broken('names no usable admin context (current-context, its cluster and its user)', list ?? 0);
  }
  const names = entryNames(clusterName);
  return {
    names,
    cluster: { cluster: server === undefined ? cluster : { ...cluster, server }, name: names.cluster },
    user: { name: names.user, user },
    context: { context: { ...context, cluster: names.cluster, user: names.user }, name: names.context },
  };
}

/** A kubeconfig holding only this cluster, its context current: what `kubeforge kubeconfig` prints. */
export function standaloneKubeconfig(admin: AdminEntries): string {
  return stringify(
    {
      apiVersion: 'v1',
      clusters: [admin.cluster],
      contexts: [admin.context],
      'current-context': admin.names.context,
      kind: 'Config',
      preferences: {},
      users: [admin.user],
    },
    KUBECTL_STYLE,
  );
}

/**
 * How kubectl (client-go) lays a kubeconfig out: list items at the key's indentation, no line
 * folding (certificate data is one long line). Used for everything written, so a merged file
 * keeps the layout kubectl gave it.
 */
export const KUBECTL_STYLE = { indentSeq: false, lineWidth: 0, minContentWidth: 0 } as const;
