// The shell scripts of a relay between two hosts, as text and environment: pure, so what runs on
// a host can be read and tested here. Every script runs through Remote.exec (`sh -eu`, as root);
// values arrive as exported variables, never spliced into the text.
//
// A relay of one bundle from a source host S to a target host T:
//   1. T (authorizeScript): the login user's authorized_keys gains one line for a key made for
//      this transfer alone: `from=` S's addresses, `restrict`, an `expiry-time`, and a forced
//      command that can only write one staging file. Nothing else on T changes.
//   2. S (sendScript): the private key arrives on stdin into a 0700 directory, T's host key (the
//      one the laptop verified) is pinned in a known_hosts file of its own, and the OpenSSH
//      client that ships with every sshd streams the bundle to T. The key files go when it ends.
//   3. T (finishScript): the line is removed, the staged copy is checked by sha256 and renamed
//      into place, exactly as a direct upload is.
// sweepScript removes every trace (keys, lines, staging files, a still running client) of other
// runs at the start of a run, and of this run at its end or on Ctrl-C.
import { REMOTE_BUNDLE_DIR, REMOTE_STATE_DIR } from '../playbook/plan.js';
import { SHA256_FUNCTION } from '../ssh/sha256-shell.js';

/** Where a source host keeps a run's transfer keys (root-only). */
export const RELAY_KEY_DIR = `${REMOTE_STATE_DIR}/relay`;
/**
 * Present while the login user's authorized_keys may hold relay lines: the sweep at every run's
 * start looks there only then (a converged rerun forks nothing for it).
 */
export const RELAY_LINES_MARKER = `${REMOTE_STATE_DIR}/relay-authorized`;
/** The lock the scripts that change a login user's authorized_keys take turns on (see AK_LOCK). */
export const AUTHORIZED_KEYS_LOCK = `${REMOTE_STATE_DIR}/relay-authorized-keys.lock`;
/** Where a non-root login user's relayed copies are staged before root moves them. */
export const RELAY_STAGE_PREFIX = '/var/tmp/kubeforge-relay-';
/** The comment every relay key carries in authorized_keys: `kubeforge-relay:<run>:<transfer>`. */
export const RELAY_MARK = 'kubeforge-relay:';
/** A forgotten line stops working by itself after this long, even if no later run sweeps it. */
export const RELAY_KEY_TTL_S = 3600;
/** finishScript exits with this when the copy arrived with the wrong hash. */
export const EXIT_HASH_MISMATCH = 3;
/** sendScript exits with this when the source has no complete copy. */
export const EXIT_NO_SOURCE = 66;

/** The login user's authorized_keys, found as root: `$ak` (and `$home`, `$grp`). */
const FIND_AUTHORIZED_KEYS = `home=$(getent passwd "$KF_USER" | cut -d: -f6)
[ -n "$home" ] || { echo "no home directory for $KF_USER" >&2; exit 1; }
grp=$(id -g "$KF_USER")
ak="$home/.ssh/authorized_keys"`;

/**
 * ak_lock / ak_unlock: the scripts that change authorized_keys take turns. Several bundles
 * relay to one host at once, and one transfer's finish rewrites the file (grep -v, rename)
 * while the next one's authorize appends to it: without turns the rewrite can drop the fresh
 * line, and that relay fails with "Permission denied (publickey)". flock (util-linux, busybox)
 * lets go by itself when its holder dies; without it, a lock directory, taken over after 5 s,
 * since an update takes milliseconds.
 */
const AK_LOCK = `ak_lock() {
  mkdir -p "\${KF_AK_LOCK%/*}"
  if command -v flock >/dev/null 2>&1; then
    exec 8>>"$KF_AK_LOCK"
    flock -w 30 8 || { echo "authorized_keys is busy: another kubeforge script holds $KF_AK_LOCK" >&2; exit 1; }
  else
    al_n=0
    until mkdir "$KF_AK_LOCK.d" 2>/dev/null; do
      al_n=$((al_n + 1))
      if [ "$al_n" -gt 100 ]; then rm -rf -- "$KF_AK_LOCK.d"; al_n=0; fi
      sleep 0.05
    done
  fi
}
ak_unlock() {
  if command -v flock >/dev/null 2>&1; then exec 8>&-; else rmdir -- "$KF_AK_LOCK.d" 2>/dev/null || true; fi
}`;

/** Drops the lines holding $1 (a fixed string) from $ak, atomically, keeping its owner and mode. */
const DROP_LINES = `drop_lines() {
  [ -f "$ak" ] && grep -qF -- "$1" "$ak" || return 0
  tmp="$ak.kubeforge-$$"
  grep -vF -- "$1" "$ak" >"$tmp" || true
  chown --reference="$ak" "$tmp" && chmod --reference="$ak" "$tmp" && mv -f "$tmp" "$ak"
}`;

/**
 * kill_writers MATCH [SPARE...]: stops the forced-command writers (dd of=…kubeforge-relay-…) whose
 * command line holds MATCH and none of the SPAREs. A transfer whose source vanished leaves its
 * writer waiting on a dead TCP connection, holding the deleted staging file open. One grep reads
 * every command line; its own pattern cannot match itself (the space in [^ ]).
 */
const KILL_WRITERS = `kill_writers() {
  kw_match=$1; shift
  for kw_f in $(grep -l -a -E 'of=[^ ]*kubeforge-relay-' /proc/[0-9]*/cmdline 2>/dev/null); do
    kw_c=$(tr '\\0' ' ' <"$kw_f" 2>/dev/null) || continue
    case "$kw_c" in "dd of="*) ;; *) continue ;; esac
    case "$kw_c" in *"$kw_match"*) ;; *) continue ;; esac
    kw_spared=no
    for kw_s in "$@"; do case "$kw_c" in *"$kw_s"*) kw_spared=yes ;; esac; done
    [ "$kw_spared" = no ] || continue
    kw_p=\${kw_f#/proc/}
    kill -KILL "\${kw_p%/cmdline}" 2>/dev/null || true
  done
}`;

export interface TransferNames {
  runId: string;
  transferId: string;
  /** The bundle's final path on the target. */
  dest: string;
  /** The target's login user is root: it writes beside dest; otherwise into a staging dir it owns. */
  targetLoginIsRoot: boolean;
}

/** Where the forced command writes, where root puts the copy before the rename, and the line's mark. */
export function transferPaths(n: TransferNames): { staged: string; temp: string; stageDir?: string; mark: string } {
  const dir = n.dest.slice(0, n.dest.lastIndexOf('/')) || REMOTE_BUNDLE_DIR;
  const base = n.dest.slice(n.dest.lastIndexOf('/') + 1);
  const temp = `${dir}/.${base}.kubeforge-relay-${n.runId}-${n.transferId}.tmp`;
  const mark = `${RELAY_MARK}${n.runId}:${n.transferId}`;
  if (n.targetLoginIsRoot) return { staged: temp, temp, mark };
  const stageDir = `${RELAY_STAGE_PREFIX}${n.runId}`;
  return { staged: `${stageDir}/${n.transferId}`, temp, stageDir, mark };
}

/** The authorized_keys options: the source's addresses, nothing but one forced write. */
export function authorizedOptions(sourceAddresses: string[], staged: string): string {
  for (const a of sourceAddresses) {
    if (!/^[0-9A-Fa-f.:]+$/.test(a)) throw new Error(`not an IP address: ${JSON.stringify(a)}`);
  }
  if (!/^[A-Za-z0-9._/-]+$/.test(staged)) throw new Error(`unsafe staging path ${JSON.stringify(staged)}`);
  // dd, not `cat >FILE`: the staging path is in its argv, so a writer left behind by a broken
  // transfer can be found and stopped (KILL_WRITERS) without lsof or fuser.
  return `from="${sourceAddresses.join(',')}",restrict,command="umask 077 && exec dd of=${staged} bs=1M status=none"`;
}

/** Step 1, on the target. */
export const authorizeScript = `${FIND_AUTHORIZED_KEYS}
${AK_LOCK}
if [ ! -d "$home/.ssh" ]; then install -d -m 700 -o "$KF_USER" -g "$grp" "$home/.ssh"; fi
if [ ! -e "$ak" ]; then install -m 600 -o "$KF_USER" -g "$grp" /dev/null "$ak"; fi
if [ -n "$KF_STAGE_DIR" ]; then install -d -m 700 -o "$KF_USER" -g "$grp" "$KF_STAGE_DIR"; fi
touch "$KF_RELAY_LINES"
opts=$KF_OPTIONS
exp=$(date -d "@$(( $(date +%s) + KF_TTL ))" +%Y%m%d%H%M 2>/dev/null) && opts="$opts,expiry-time=\\"$exp\\""
ak_lock
# A last line without its newline would swallow ours.
if [ -s "$ak" ] && [ -n "$(tail -c 1 "$ak")" ]; then echo >>"$ak"; fi
printf '%s %s\\n' "$opts" "$KF_PUBLIC_KEY" >>"$ak"
ak_unlock`;

export function authorizeEnv(p: { user: string; options: string; publicKey: string; stageDir?: string }): Record<string, string> {
  return { KF_USER: p.user, KF_OPTIONS: p.options, KF_PUBLIC_KEY: p.publicKey, KF_STAGE_DIR: p.stageDir ?? '', KF_TTL: String(RELAY_KEY_TTL_S), KF_RELAY_LINES: RELAY_LINES_MARKER, KF_AK_LOCK: AUTHORIZED_KEYS_LOCK };
}

/** Step 2, on the source: the private key on stdin. */
export const sendScript = `umask 077
mkdir -p "$KF_DIR"
key="$KF_DIR/id-$KF_TID"; kh="$KF_DIR/known_hosts-$KF_TID"; pid="$KF_DIR/pid-$KF_TID"; fifo="$KF_DIR/fifo-$KF_TID"
trap 'rm -f "$key" "$kh" "$pid" "$fifo"' EXIT
cat >"$key"
printf '%s\\n' "$KF_KNOWN_HOSTS" >"$kh"
command -v ssh >/dev/null || { echo "no OpenSSH client (ssh) on this host" >&2; exit 127; }
# The complete copy, or (cut-through) the one still arriving, opened at once (fd 9): a small
# copy can be complete and renamed into place between seeing its name and opening it, and tail
# on a vanished name would send nothing. \`command exec\` fails without ending the script.
# Sends often start before their source's copy does and wait a second or two: the tests are
# shell builtins (stat only once the complete copy's name exists), and after 2 s the polling
# slows down, so that fifty waiting sends fork little on hosts busy unpacking. At most ~30 s.
src=; n=0
while [ -z "$src" ]; do
  if [ -e "$KF_SRC" ] && [ "$(stat -c %s "$KF_SRC" 2>/dev/null)" = "$KF_SIZE" ]; then src=$KF_SRC
  elif [ -n "$KF_STREAM_FROM" ] && { command exec 9<"$KF_STREAM_FROM"; } 2>/dev/null; then src=$KF_STREAM_FROM
  else
    n=$((n + 1)); [ "$n" -le 132 ] || { echo "no copy of $KF_SRC here" >&2; exit ${EXIT_NO_SOURCE}; }
    if [ "$n" -le 20 ]; then sleep 0.1; else sleep 0.25; fi
  fi
done
# Niced: on a host that is still receiving its own copy (the seed, from the laptop's uplink),
# passing it on must not slow down its arrival; everything downstream waits for that.
if command -v nice >/dev/null 2>&1; then kf_nice='nice -n 10'; else kf_nice=; fi
# KexAlgorithms: OpenSSH 9's default, sntrup761x25519, costs the client ~60 ms of CPU per connection
# (1.66 against 0.49 CPU-s for 20 connections here), paid once per relayed copy on hosts that are
# busy unpacking; curve25519 (or P-256, as the laptop's own connections to these hosts prefer)
# keeps the bundle no less protected between hosts than on its way from the laptop.
send() {
  $kf_nice ssh -F /dev/null -T -i "$key" -o IdentitiesOnly=yes -o IdentityAgent=none -o BatchMode=yes \\
    -o StrictHostKeyChecking=yes -o UserKnownHostsFile="$kh" -o GlobalKnownHostsFile=/dev/null \\
    -o HostKeyAlias=kubeforge-peer -o HostKeyAlgorithms="$KF_ALGORITHMS" -o ClearAllForwardings=yes \\
    -o Ciphers=aes128-gcm@openssh.com,chacha20-poly1305@openssh.com,aes256-gcm@openssh.com,aes128-ctr \\
    -o KexAlgorithms=curve25519-sha256,curve25519-sha256@libssh.org,ecdh-sha2-nistp256,diffie-hellman-group14-sha256 \\
    -o ConnectTimeout=10 -o ServerAliveInterval=3 -o ServerAliveCountMax=3 -o LogLevel=ERROR \\
    -p "$KF_PORT" -l "$KF_USER" -- "$KF_ADDRESS"
}
if [ "$src" = "$KF_SRC" ]; then
  send <"$src" &
else
  # tail follows the open file (a rename into place does not stop it) and ends with this
  # shell; head stops at the bundle's size.
  mkfifo -m 600 "$fifo"
  $kf_nice tail -c +1 -f -s 0.1 --pid=$$ <&9 >"$fifo" 2>/dev/null &
  exec 9<&-
  $kf_nice head -c "$KF_SIZE" <"$fifo" | send &
fi
echo $! >"$pid"
rc=0
wait $! || rc=$?
exit $rc`;

export interface SendParams {
  runId: string;
  transferId: string;
  source: string;
  /** The source's copy is still arriving here: read it as it grows (cut-through). */
  streamFrom?: string;
  size: number;
  target: { address: string; port: number; user: string; keyType: string; keyBlob: Buffer };
}

export function sendEnv(p: SendParams): Record<string, string> {
  const key = `${p.target.keyType} ${p.target.keyBlob.toString('base64')}`;
  return {
    KF_DIR: `${RELAY_KEY_DIR}/${p.runId}`,
    KF_TID: p.transferId,
    KF_SRC: p.source,
    KF_STREAM_FROM: p.streamFrom ?? '',
    KF_SIZE: String(p.size),
    // With HostKeyAlias, some OpenSSH versions still add a non-default port to the name.
    KF_KNOWN_HOSTS: `kubeforge-peer ${key}\n[kubeforge-peer]:${p.target.port} ${key}`,
    KF_ALGORITHMS: hostKeyAlgorithms(p.target.keyType),
    KF_PORT: String(p.target.port),
    KF_USER: p.target.user,
    KF_ADDRESS: p.target.address,
  };
}

/** The signature algorithms that prove the pinned key: RSA keys sign with SHA-2 today. */
export function hostKeyAlgorithms(keyType: string): string {
  return keyType === 'ssh-rsa' ? 'rsa-sha2-512,rsa-sha2-256,ssh-rsa' : keyType;
}

/** Step 3, on the target: the line goes first, whatever happened; then the copy is verified and renamed. */
export const finishScript = `${FIND_AUTHORIZED_KEYS}
${AK_LOCK}
${DROP_LINES}
${KILL_WRITERS}
${SHA256_FUNCTION}
ak_lock
drop_lines "$KF_MARK" || true
ak_unlock
[ "$KF_KEEP" = yes ] || { kill_writers "of=$KF_STAGED "; rm -f "$KF_STAGED" "$KF_TEMP"; exit 0; }
if [ "$KF_STAGED" != "$KF_TEMP" ]; then (umask 077 && cp -- "$KF_STAGED" "$KF_TEMP"); rm -f "$KF_STAGED"; fi
actual=$(kf_sha256 <"$KF_TEMP")
if [ "$actual" != "$KF_SHA256" ]; then rm -f "$KF_TEMP"; echo "sha256 $actual" >&2; exit ${EXIT_HASH_MISMATCH}; fi
chmod 644 "$KF_TEMP"
mv -f -- "$KF_TEMP" "$KF_DEST"`;

export function finishEnv(p: { user: string; mark: string; staged: string; temp: string; dest: string; sha256: string; keep: boolean }): Record<string, string> {
  return { KF_USER: p.user, KF_MARK: p.mark, KF_STAGED: p.staged, KF_TEMP: p.temp, KF_DEST: p.dest, KF_SHA256: p.sha256.toLowerCase(), KF_KEEP: p.keep ? 'yes' : 'no', KF_AK_LOCK: AUTHORIZED_KEYS_LOCK };
}

/** How many bytes of the staged copy arrived so far (0 when none). */
export const stagedSizeScript = 'stat -c %s "$KF_STAGED" 2>/dev/null || echo 0';

/**
 * Every relay trace except those of run $KF_RELAY_KEEP (empty: every run): clients still
 * running (checked by their command line, so a reused pid is never hit), key directories,
 * authorized_keys lines, staged and half-verified copies.
 */
export const sweepScript = `${KILL_WRITERS}
${AK_LOCK}
found=no
if [ -d "$KF_RELAY_KEYS" ]; then
  for d in "$KF_RELAY_KEYS"/*; do
    [ -d "$d" ] || continue
    [ -n "$KF_RELAY_KEEP" ] && [ "\${d##*/}" = "$KF_RELAY_KEEP" ] && continue
    found=yes
    for p in "$d"/pid-*; do
      [ -f "$p" ] || continue
      n=$(cat "$p")
      case "$n" in *[!0-9]*|'') continue ;; esac
      if [ -r "/proc/$n/cmdline" ] && tr '\\0' ' ' <"/proc/$n/cmdline" | grep -qF -- "$d/id-"; then kill -KILL "$n" 2>/dev/null || true; fi
    done
    rm -rf -- "$d"
  done
  rmdir "$KF_RELAY_KEYS" 2>/dev/null || true
fi
for d in "$KF_RELAY_STAGE"*; do
  [ -d "$d" ] || continue
  [ -n "$KF_RELAY_KEEP" ] && [ "$d" = "$KF_RELAY_STAGE$KF_RELAY_KEEP" ] && continue
  found=yes
  rm -rf -- "$d"
done
if [ -d "$KF_RELAY_BUNDLES" ]; then
  for f in "$KF_RELAY_BUNDLES"/.*.kubeforge-relay-*.tmp; do
    [ -f "$f" ] || continue
    [ -n "$KF_RELAY_KEEP" ] && case "$f" in *.kubeforge-relay-"$KF_RELAY_KEEP"-*) continue ;; esac
    found=yes
    rm -f -- "$f"
  done
fi
# A writer left by a broken transfer holds a staging file: only when there was one to remove.
if [ "$found" = yes ]; then
  if [ -n "$KF_RELAY_KEEP" ]; then kill_writers kubeforge-relay- "kubeforge-relay-$KF_RELAY_KEEP-" "kubeforge-relay-$KF_RELAY_KEEP/"; else kill_writers kubeforge-relay-; fi
fi
if [ -e "$KF_RELAY_LINES" ] && home=$(getent passwd "$KF_USER" | cut -d: -f6) && [ -n "$home" ]; then
  ak="$home/.ssh/authorized_keys"
  keep="${RELAY_MARK}$KF_RELAY_KEEP:"
  ak_lock
  if [ -f "$ak" ] && grep -F -- "${RELAY_MARK}" "$ak" | grep -qvF -- "$keep"; then
    tmp="$ak.kubeforge-$$"
    while IFS= read -r line || [ -n "$line" ]; do
      case "$line" in *"$keep"*) ;; *"${RELAY_MARK}"*) continue ;; esac
      printf '%s\\n' "$line"
    done <"$ak" >"$tmp"
    chown --reference="$ak" "$tmp" && chmod --reference="$ak" "$tmp" && mv -f "$tmp" "$ak"
  fi
  [ -f "$ak" ] && grep -qF -- "${RELAY_MARK}" "$ak" || rm -f -- "$KF_RELAY_LINES"
  ak_unlock
fi`;

/**
 * Succeeds when sweepScript would find no relay trace of any run (no key folder, no staging
 * folder, no marker saying authorized_keys may hold relay lines; relayed temporaries in the
 * bundle folder are gather.ts's NOTHING_TO_SWEEP's). Read-only; needs kf_any and sweepEnv.
 */
export const NO_RELAY_TRACES = `! [ -e "$KF_RELAY_KEYS" ] && ! kf_any "$KF_RELAY_STAGE"* && ! [ -e "$KF_RELAY_LINES" ]`;

export function sweepEnv(user: string, keepRunId: string | undefined): Record<string, string> {
  return { KF_USER: user, KF_RELAY_KEEP: keepRunId ?? '', KF_RELAY_KEYS: RELAY_KEY_DIR, KF_RELAY_STAGE: RELAY_STAGE_PREFIX, KF_RELAY_BUNDLES: REMOTE_BUNDLE_DIR, KF_RELAY_LINES: RELAY_LINES_MARKER, KF_AK_LOCK: AUTHORIZED_KEYS_LOCK };
}
