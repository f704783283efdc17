// The kubeadm choreography on one host at a time: init, minting join material, join, and
// fetching the admin kubeconfig. Secrets reach kubeadm only inside 0600 config files that are
// removed right after (never on a command line, where `ps` would show them).
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Cluster, Host } from '../model.js';
import { renderKubeadmInitConfig, renderKubeadmJoinConfig } from '../render/index.js';
import { RemoteCommandError, tailLines, type Remote } from '../run/remote.js';
import { initMakesCertificateKey } from './decide.js';
import { caCertHashFrom, certificateKeyFrom, joinCommandFrom } from './kubeadm-output.js';
import { generateCertificateKey, generateToken, type JoinMaterial, type Redactor } from './secrets.js';

const SECRETS_DIR = '/var/lib/kubeforge/secrets';
export const ADMIN_CONF = '/etc/kubernetes/admin.conf';
const KUBELET_CONF = '/etc/kubernetes/kubelet.conf';

export interface KubeadmContext {
  cluster: Cluster;
  redactor: Redactor;
  signal: AbortSignal;
  timeoutMs: number;
}

/** A host is part of the cluster once kubeadm wrote its kubelet.conf (init and join both do). */
export async function isMember(remote: Remote, ctx: KubeadmContext): Promise<boolean> {
  const r = await remote.exec('test -f "$KF_CONF"', { env: { KF_CONF: KUBELET_CONF }, signal: ctx.signal });
  return r.code === 0;
}

/** kubeadm init ran on this host: its admin.conf is there (not read: it holds the admin's key). */
export async function isInitialised(remote: Remote, signal: AbortSignal): Promise<boolean> {
  const r = await remote.exec('test -f "$KF_CONF"', { env: { KF_CONF: ADMIN_CONF }, signal });
  return r.code === 0;
}

/** kubeadm init wrote admin.conf: its content, or undefined when there is none (not initialised). */
export async function readAdminConf(remote: Remote, ctx: KubeadmContext): Promise<string | undefined> {
  const r = await remote.exec(`if [ -f "$KF_CONF" ]; then cat "$KF_CONF"; else exit ${NO_ADMIN_CONF}; fi`, { env: { KF_CONF: ADMIN_CONF }, signal: ctx.signal });
  if (r.code === NO_ADMIN_CONF) return undefined;
  if (r.code !== 0 || !r.stdout.includes('kind: Config')) {
    throw new RemoteCommandError(`cannot read ${ADMIN_CONF} on ${host(remote)}`, r.code, ctx.redactor.redact(r.stderr));
  }
  return r.stdout;
}
const NO_ADMIN_CONF = 3;

/**
 * Runs kubeadm with a secret config file: written 0600 into a 0700 directory, removed when
 * kubeadm exits (also when it fails). On failure the host is reset so a rerun starts clean.
 */
async function kubeadmWithSecretConfig(
  remote: Remote,
  ctx: KubeadmContext,
  what: string,
  config: string,
  args: string,
): Promise<string> {
  const file = `${SECRETS_DIR}/kubeadm-${what}-${randomBytes(6).toString('hex')}.yaml`;
  await remote.exec('umask 077; mkdir -p "$KF_DIR"; chmod 0700 "$KF_DIR"', { env: { KF_DIR: SECRETS_DIR }, signal: ctx.signal });
  await remote.writeFile(file, config, { mode: 0o600, signal: ctx.signal });
  const r = await remote.exec(
    `trap 'rm -f "$KF_CONFIG"' EXIT
     kubeadm ${args} --config "$KF_CONFIG"`,
    { env: { KF_CONFIG: file }, signal: ctx.signal, timeoutMs: ctx.timeoutMs },
  );
  if (r.code !== 0) {
    const output = tailLines(ctx.redactor.redact(`${r.stdout}\n${r.stderr}`));
    // Leave the host as kubeadm found it, so that --retry-failed can simply try again.
    await remote.exec('kubeadm reset -f >/dev/null 2>&1 || true', { signal: ctx.signal, timeoutMs: ctx.timeoutMs }).catch(() => undefined);
    throw new RemoteCommandError(`kubeadm ${what} failed (exit ${r.code}): ${lastMeaningfulLine(output)}`, r.code, output);
  }
  return r.stdout;
}

function lastMeaningfulLine(output: string): string {
  const lines = output.split('\n').filter((l) => /error|fatal|failed/i.test(l));
  return (lines.at(-1) ?? output.split('\n').at(-1) ?? '').trim().slice(0, 300);
}

/** kubeadm init on the init host; returns what the other hosts need to join. */
export async function initCluster(remote: Remote, host: Host, ctx: KubeadmContext): Promise<JoinMaterial> {
  const token = generateToken();
  const certificateKey = initMakesCertificateKey(ctx.cluster) ? generateCertificateKey() : undefined;
  ctx.redactor.add(token, certificateKey);
  const config = renderKubeadmInitConfig(ctx.cluster, host, { token, ...(certificateKey ? { certificateKey } : {}) });
  const output = await kubeadmWithSecretConfig(remote, ctx, 'init', config, `init${certificateKey ? ' --upload-certs' : ''}`);
  const caCertHash = caCertHashFrom(output);
  if (!caCertHash) throw new Error('kubeadm init succeeded but printed no --discovery-token-ca-cert-hash');
  return { token, caCertHash, ...(certificateKey ? { certificateKey } : {}) };
}

/**
 * Fresh join material from an initialised cluster (a rerun, or hosts added later): a new token
 * (the init token may have expired after 24 h) and, for control planes, a fresh certificate key
 * (uploaded certificates expire after 2 h).
 */
export async function mintJoinMaterial(remote: Remote, ctx: KubeadmContext, controlPlane: boolean): Promise<JoinMaterial> {
  const run = async (args: string) => {
    const r = await remote.exec(`kubeadm ${args}`, { signal: ctx.signal, timeoutMs: ctx.timeoutMs });
    if (r.code !== 0) {
      const output = tailLines(ctx.redactor.redact(`${r.stdout}\n${r.stderr}`));
      throw new RemoteCommandError(`kubeadm ${args.split(' --')[0]} failed (exit ${r.code})`, r.code, output);
    }
    return r.stdout;
  };
  const join = joinCommandFrom(await run('token create --print-join-command --ttl 2h'));
  if (!join) throw new Error('kubeadm token create printed no join command');
  ctx.redactor.add(join.token);
  if (!controlPlane) return join;
  const certificateKey = certificateKeyFrom(await run('init phase upload-certs --upload-certs'));
  if (!certificateKey) throw new Error('kubeadm init phase upload-certs printed no certificate key');
  ctx.redactor.add(certificateKey);
  return { ...join, certificateKey };
}

export async function joinHost(remote: Remote, host: Host, material: JoinMaterial, ctx: KubeadmContext): Promise<void> {
  const config = renderKubeadmJoinConfig(ctx.cluster, host, material);
  await kubeadmWithSecretConfig(remote, ctx, 'join', config, 'join');
}

/** Copies admin.conf (as readAdminConf read it) to the laptop: written 0600 under a temporary name, then renamed. */
export async function saveAdminConf(content: string, localPath: string): Promise<void> {
  await fs.mkdir(path.dirname(localPath), { recursive: true, mode: 0o700 });
  const tmp = `${localPath}.${process.pid}.tmp`;
  await fs.writeFile(tmp, content, { mode: 0o600 });
  await fs.chmod(tmp, 0o600);
  await fs.rename(tmp, localPath);
}

function host(remote: Remote): string {
  return remote.name;
}
