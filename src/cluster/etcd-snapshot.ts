// An etcd snapshot on a control plane, taken with the etcdctl of the etcd static Pod itself
// (`crictl exec` into its container), as kubeadm's "Operating etcd clusters" page shows etcdctl
// with the etcd client certificates kubeadm made. Why the Pod's etcdctl and not one we ship: it
// is always the etcd version the cluster runs, it is there offline, and nothing new has to be
// installed on the host. The snapshot is written into the Pod's hostPath /var/lib/etcd (the only
// place the container and the host share besides the certificates), verified with
// `etcdutl snapshot status` (etcdctl's own `snapshot status` is deprecated in etcd 3.5 and gone
// in 3.6), hashed, and packed with /etc/kubernetes/pki, all in a 0700 directory the laptop then
// fetches and removes.
import { RemoteCommandError, tailLines, type Remote } from '../run/remote.js';

export interface SnapshotContext {
  signal: AbortSignal;
  redact: (text: string) => string;
}

/** The etcd client certificate kubeadm makes for health checks: mounted in the etcd Pod, signed by the etcd CA. */
export const ETCD_CLIENT = {
  endpoint: 'https://127.0.0.1:2379',
  cacert: '/etc/kubernetes/pki/etcd/ca.crt',
  cert: '/etc/kubernetes/pki/etcd/healthcheck-client.crt',
  key: '/etc/kubernetes/pki/etcd/healthcheck-client.key',
} as const;

/** Under the etcd Pod's data hostPath, so etcdctl in the container writes where the host reads. */
export const SNAPSHOT_PARENT = '/var/lib/etcd';
export const SNAPSHOT_FILE = 'etcd-snapshot.db';
export const PKI_ARCHIVE = 'pki.tar.gz';

export interface SnapshotStatus {
  hash: number;
  revision: number;
  totalKey: number;
  totalSize: number;
  version?: string;
}

export interface TakenSnapshot {
  /** The directory on the host holding the snapshot and the PKI archive (remove it when done). */
  dir: string;
  status: SnapshotStatus;
  /** sha256 of each file, as the host computed it. */
  sha256: Record<typeof SNAPSHOT_FILE | typeof PKI_ARCHIVE, string>;
  size: Record<typeof SNAPSHOT_FILE | typeof PKI_ARCHIVE, number>;
}

const EXIT_NO_ETCD = 3;

export const TAKE_SNAPSHOT_SCRIPT = `umask 077
command -v crictl >/dev/null 2>&1 || { echo "crictl is not installed: it is how kubeforge reaches etcdctl in the etcd Pod (give cri-tools in the inventory)" >&2; exit ${EXIT_NO_ETCD}; }
cid=$(crictl ps --name '^etcd$' --state running -q | head -n 1)
[ -n "$cid" ] || { echo "no running etcd container on this host (crictl ps --name etcd): is it a control plane with local etcd?" >&2; exit ${EXIT_NO_ETCD}; }
mkdir -m 0700 "$KF_DIR"
crictl exec "$cid" etcdctl --endpoints="$KF_ENDPOINT" --cacert="$KF_CACERT" --cert="$KF_CERT" --key="$KF_KEY" snapshot save "$KF_DIR/$KF_SNAPSHOT" >&2
echo "status $(crictl exec "$cid" etcdutl snapshot status "$KF_DIR/$KF_SNAPSHOT" -w json)"
tar -C /etc/kubernetes -czf "$KF_DIR/$KF_PKI" pki
chmod 0600 "$KF_DIR/$KF_SNAPSHOT" "$KF_DIR/$KF_PKI"
for f in "$KF_SNAPSHOT" "$KF_PKI"; do
  echo "file $f $(stat -c %s "$KF_DIR/$f") $(sha256sum < "$KF_DIR/$f" | cut -d' ' -f1)"
done
`;

/** Reads the lines TAKE_SNAPSHOT_SCRIPT prints: "status {json}" and "file NAME SIZE SHA256". */
export function parseSnapshotReport(stdout: string): Pick<TakenSnapshot, 'status' | 'sha256' | 'size'> {
  let status: SnapshotStatus | undefined;
  const sha256: Record<string, string> = {};
  const size: Record<string, number> = {};
  for (const line of stdout.split('\n')) {
    if (line.startsWith('status ')) {
      const json = JSON.parse(line.slice('status '.length)) as Partial<SnapshotStatus>;
      if (typeof json.hash !== 'number' || typeof json.revision !== 'number' || typeof json.totalKey !== 'number' || typeof json.totalSize !== 'number') {
        throw new Error(`etcdutl snapshot status printed no hash/revision/totalKey/totalSize: ${line.slice(0, 200)}`);
      }
      status = { hash: json.hash, revision: json.revision, totalKey: json.totalKey, totalSize: json.totalSize, ...(json.version ? { version: json.version } : {}) };
    }
    const m = /^file (\S+) (\d+) ([0-9a-f]{64})$/.exec(line);
    if (m) {
      sha256[m[1]!] = m[3]!;
      size[m[1]!] = Number(m[2]);
    }
  }
  if (!status) throw new Error('the snapshot was not verified (no etcdutl snapshot status output)');
  for (const f of [SNAPSHOT_FILE, PKI_ARCHIVE]) if (!sha256[f]) throw new Error(`no sha256 for ${f}`);
  return { status, sha256: sha256 as TakenSnapshot['sha256'], size: size as TakenSnapshot['size'] };
}

/** Takes and verifies a snapshot into a new directory on the host; the caller fetches and removes it. */
export async function takeSnapshot(remote: Remote, id: string, ctx: SnapshotContext): Promise<TakenSnapshot> {
  const dir = `${SNAPSHOT_PARENT}/kubeforge-backup-${id}`;
  const r = await remote.exec(TAKE_SNAPSHOT_SCRIPT, {
    env: {
      KF_DIR: dir,
      KF_SNAPSHOT: SNAPSHOT_FILE,
      KF_PKI: PKI_ARCHIVE,
      KF_ENDPOINT: ETCD_CLIENT.endpoint,
      KF_CACERT: ETCD_CLIENT.cacert,
      KF_CERT: ETCD_CLIENT.cert,
      KF_KEY: ETCD_CLIENT.key,
    },
    signal: ctx.signal,
    timeoutMs: 15 * 60_000,
  });
  if (r.code !== 0) {
    await removeSnapshotDir(remote, dir, ctx).catch(() => undefined);
    const output = tailLines(ctx.redact(`${r.stdout}\n${r.stderr}`));
    throw new RemoteCommandError(`taking the etcd snapshot failed (exit ${r.code}): ${output.split('\n').at(-1) ?? ''}`, r.code, output);
  }
  return { dir, ...parseSnapshotReport(r.stdout) };
}

export async function removeSnapshotDir(remote: Remote, dir: string, ctx: SnapshotContext): Promise<void> {
  // Only ever a directory this module made.
  if (!dir.startsWith(`${SNAPSHOT_PARENT}/kubeforge-backup-`)) throw new Error(`refusing to remove ${dir}`);
  await remote.exec('rm -rf -- "$KF_DIR"', { env: { KF_DIR: dir }, signal: ctx.signal });
}
