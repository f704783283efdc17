// What `kubeforge init` learns about a host while it is being added, and whether kubeforge can
// work with it: the script run there, the parser of its output, and the support rules. Pure:
// probe.ts runs the script over SSH.

export type SudoState = 'root' | 'nopasswd' | 'password' | 'missing';

export interface HostFacts {
  /** `uname -s`: "Linux". */
  kernel: string;
  /** `uname -m`: "x86_64", "aarch64", … */
  arch: string;
  hostname: string;
  /** PRETTY_NAME from /etc/os-release, else NAME VERSION_ID; undefined when the file is missing. */
  os?: string;
  /** PID 1 is systemd (/run/systemd/system exists). */
  systemd: boolean;
  /** How the login user becomes root: already is, sudo without a password, sudo with one, no sudo. */
  sudo: SudoState;
  /** /etc/machine-id, to notice one machine added under two addresses; undefined when empty. */
  machineId?: string;
}

export const SUPPORTED_ARCHS = ['x86_64', 'aarch64'] as const;

/**
 * One round trip. Runs as the login user, never through sudo: finding out whether sudo works
 * without a password is one of its questions.
 */
export const FACTS_SCRIPT = `echo "kernel=$(uname -s)"
echo "arch=$(uname -m)"
echo "hostname=$(hostname 2>/dev/null || cat /proc/sys/kernel/hostname)"
if [ -d /run/systemd/system ]; then echo systemd=yes; else echo systemd=no; fi
if [ "$(id -u)" = 0 ]; then echo sudo=root
elif ! command -v sudo >/dev/null 2>&1; then echo sudo=missing
elif sudo -n true >/dev/null 2>&1; then echo sudo=nopasswd
else echo sudo=password; fi
echo "machine-id=$(cat /etc/machine-id 2>/dev/null)"
echo ---os-release---
cat /etc/os-release 2>/dev/null || cat /usr/lib/os-release 2>/dev/null || true
`;

const OS_RELEASE_MARK = '---os-release---';

/** FACTS_SCRIPT's output → facts; undefined when the output is not what the script prints. */
export function parseFacts(stdout: string): HostFacts | undefined {
  const markAt = stdout.indexOf(`${OS_RELEASE_MARK}\n`);
  const head = markAt === -1 ? stdout : stdout.slice(0, markAt);
  const fields = new Map<string, string>();
  for (const line of head.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) fields.set(line.slice(0, eq), line.slice(eq + 1).trim());
  }
  const kernel = fields.get('kernel');
  const arch = fields.get('arch');
  const sudo = fields.get('sudo');
  if (!kernel || !arch || !isSudoState(sudo)) return undefined;
  const release = markAt === -1 ? new Map<string, string>() : parseOsRelease(stdout.slice(markAt + OS_RELEASE_MARK.length + 1));
  const os = release.get('PRETTY_NAME') ?? ([release.get('NAME'), release.get('VERSION_ID')].filter(Boolean).join(' ') || undefined);
  const machineId = fields.get('machine-id');
  return {
    kernel,
    arch,
    hostname: fields.get('hostname') ?? '',
    ...(os ? { os } : {}),
    systemd: fields.get('systemd') === 'yes',
    sudo,
    ...(machineId ? { machineId } : {}),
  };
}

function isSudoState(text: string | undefined): text is SudoState {
  return text === 'root' || text === 'nopasswd' || text === 'password' || text === 'missing';
}

/**
 * os-release(5): KEY=value lines, values optionally in shell quotes with \\ escapes inside
 * double quotes; comments and malformed lines are skipped.
 */
export function parseOsRelease(text: string): Map<string, string> {
  const values = new Map<string, string>();
  for (const raw of text.split('\n')) {
    const m = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(raw.trim());
    if (!m) continue;
    values.set(m[1]!, unquote(m[2]!));
  }
  return values;
}

function unquote(value: string): string {
  const double = /^"(.*)"$/.exec(value);
  if (double) return double[1]!.replace(/\\(["\\$`])/g, '$1');
  const single = /^'(.*)'$/.exec(value);
  return single ? single[1]! : value;
}

/** Why kubeforge cannot set this host up; empty when it can. */
export function unsupportedReasons(facts: HostFacts, user: string): string[] {
  const reasons: string[] = [];
  if (facts.kernel !== 'Linux') reasons.push(`runs ${facts.kernel}; kubeforge supports Linux only`);
  if (!(SUPPORTED_ARCHS as readonly string[]).includes(facts.arch)) {
    reasons.push(`unsupported architecture ${facts.arch}; kubeforge supports ${SUPPORTED_ARCHS.join(' and ')}`);
  }
  if (!facts.systemd) reasons.push('systemd is not running (no /run/systemd/system); kubeforge needs systemd to run containerd and the kubelet');
  if (facts.sudo === 'missing') reasons.push(`${user} is not root and sudo is not installed; log in as root or install sudo`);
  return reasons;
}

/** Architecture as release tarballs name it: amd64, arm64. */
export function bundleArchOf(fileName: string): string | undefined {
  return /-linux-(amd64|arm64|arm|ppc64le|s390x|riscv64)\b/.exec(fileName)?.[1];
}

const UNAME_TO_BUNDLE_ARCH: Record<string, string> = { x86_64: 'amd64', aarch64: 'arm64' };

/** The bundle was built for another architecture than the host's; undefined when it fits or cannot tell. */
export function bundleArchMismatch(facts: HostFacts, bundleName: string, label: string): string | undefined {
  const bundleArch = bundleArchOf(bundleName);
  const hostArch = UNAME_TO_BUNDLE_ARCH[facts.arch];
  if (!bundleArch || !hostArch || bundleArch === hostArch) return undefined;
  return `the ${label} bundle ${bundleName} is for ${bundleArch}, this host is ${facts.arch} (${hostArch})`;
}

/** One line for the terminal and the inventory comment: "hostname n1, Debian GNU/Linux 12 (bookworm), x86_64, systemd, …". */
export function describeFacts(facts: HostFacts, user: string): string {
  const sudo: Record<SudoState, string> = {
    root: 'logs in as root',
    nopasswd: `${user} uses sudo without a password`,
    password: `sudo asks ${user} for a password`,
    missing: `${user} has no sudo`,
  };
  return [
    `hostname ${facts.hostname || '(none)'}`,
    facts.os ?? `${facts.kernel} (no /etc/os-release)`,
    facts.arch,
    facts.systemd ? 'systemd' : 'no systemd',
    sudo[facts.sudo],
  ].join(', ');
}
