// `kubeforge certs renew`: kubeadm's manual certificate renewal on every control plane, one at a
// time (the init host first): `kubeadm certs renew all`, the static Pods restarted so they load
// the new certificates, the API server answering again before the next host is touched; then the
// laptop's admin kubeconfig (the file `up` saved) is fetched anew, since admin.conf's client
// certificate was renewed too.
import { confirm } from '@inquirer/prompts';
import path from 'node:path';
import { firstExpiry, type ExpirationInfo } from '../../cluster/certs-expiry.js';
import { readCertExpiry, renewAll, restartStaticPods, type CertsContext } from '../../cluster/certs.js';
import { readAdminConf, saveAdminConf } from '../../cluster/kubeadm.js';
import { waitForApiServer } from '../../cluster/kubectl.js';
import { Redactor } from '../../cluster/secrets.js';
import { InputError } from '../../errors.js';
import { loadInventory } from '../../inventory/index.js';
import { newRunId, type RunRecord } from '../../ledger/ledger.js';
import { recordStep, writeOperation } from '../../ledger/operation.js';
import type { Cluster, Host } from '../../model.js';
import { defaultKubeconfigPath } from '../../run/orchestrate.js';
import type { HostResult, StepResult } from '../../run/outcome.js';
import type { Remote } from '../../run/remote.js';
import { sshConnector } from '../../ssh/remote.js';
import { shellQuote } from '../../ssh/quote.js';

export interface CertsRenewFlags {
  inventory: string;
  yes?: boolean;
}

/** The control planes in the order they are renewed: the inventory's, so the init host first. */
export function renewalOrder(cluster: Cluster): Host[] {
  return cluster.hosts.filter((h) => h.role === 'control-plane');
}

export function describeRenewal(cluster: Cluster, hosts: Host[]): string {
  return [
    `kubeforge certs renew on cluster ${cluster.name}: ${hosts.length} control plane(s), one at a time: ${hosts.map((h) => h.name).join(', ')}`,
    '  on each: kubeadm certs renew all; the control-plane static Pods (kube-apiserver, kube-controller-manager, kube-scheduler, etcd)',
    '  restarted by moving their manifests out of /etc/kubernetes/manifests and back; wait for the API server to answer.',
    `  The API server of each control plane is down for a moment while it restarts${hosts.length === 1 ? ' (one control plane: the cluster API is)' : ''}.`,
    `Then ${defaultKubeconfigPath(cluster)} is replaced by the renewed admin.conf.`,
  ].join('\n');
}

async function confirmed(flags: CertsRenewFlags): Promise<boolean> {
  if (flags.yes) return true;
  if (!process.stdin.isTTY) {
    throw new InputError('--yes', 'renewing certificates restarts the control plane, and there is no terminal to ask on', 'read what it will do (above), then add --yes');
  }
  return confirm({ message: 'Renew the certificates now?', default: false }, { output: process.stderr });
}

function showExpiry(info: ExpirationInfo): string {
  const first = firstExpiry(info);
  return first?.expires ? `${first.name} expires first, ${first.expires.toISOString().replace(/\.\d+Z$/, 'Z')}` : 'no certificate found';
}

/** Renews one control plane; throws (with its steps recorded) at the first failure. */
async function renewHost(remote: Remote, cluster: Cluster, steps: StepResult[], ctx: CertsContext, out: (line: string) => void): Promise<void> {
  const name = remote.name;
  const before = await recordStep(steps, 'certs/check-before', 'certificate expiry before', async () => {
    const info = await readCertExpiry(remote, cluster.kubernetes.version, ctx);
    return { value: info, detail: showExpiry(info) };
  });
  out(`${name}: before: ${showExpiry(before)}`);
  await recordStep(steps, 'certs/renew', 'kubeadm certs renew all', async () => {
    const renewed = await renewAll(remote, ctx);
    return { value: renewed, detail: `${renewed.length} certificates renewed` };
  });
  out(`${name}: kubeadm certs renew all: done`);
  await recordStep(steps, 'certs/restart-static-pods', 'control-plane static Pods restarted', async () => {
    const said = await restartStaticPods(remote, ctx);
    return { value: said, detail: said.filter((l) => l.startsWith('started ')).join('; ') };
  });
  out(`${name}: static Pods restarted`);
  await recordStep(steps, 'certs/api-server', 'the API server answers again', async () => {
    await waitForApiServer(remote, { signal: ctx.signal, redact: ctx.redact }, 180_000);
    return { value: undefined };
  });
  out(`${name}: the API server answers /readyz`);
  const after = await recordStep(steps, 'certs/check-after', 'certificate expiry after', async () => {
    const info = await readCertExpiry(remote, cluster.kubernetes.version, ctx);
    const old = new Map(before.certificates.map((c) => [c.name, c.expires?.getTime() ?? 0]));
    // A renewed certificate never expires earlier; the same time is possible (kubeadm before
    // 1.30 prints minutes only, and a renewal in the same minute as init shows the same time).
    const stale = info.certificates.filter((c) => c.expires && c.expires.getTime() < (old.get(c.name) ?? 0)).map((c) => c.name);
    if (stale.length > 0) throw new Error(`kubeadm reports an earlier expiry than before the renewal for: ${stale.join(', ')}`);
    return { value: info, detail: showExpiry(info) };
  });
  out(`${name}: after: ${showExpiry(after)}`);
}

export async function certsRenewCommand(flags: CertsRenewFlags): Promise<number> {
  const out = (line: string) => process.stdout.write(line + '\n');
  const inventoryPath = path.resolve(flags.inventory);
  const { cluster } = await loadInventory(flags.inventory);
  const hosts = renewalOrder(cluster);
  out(describeRenewal(cluster, hosts));
  if (!(await confirmed(flags))) {
    out('nothing was changed');
    return 0;
  }
  const started = Date.now();
  const redactor = new Redactor();
  const controller = new AbortController();
  // A control plane is never left half-restarted: the first Ctrl-C lets the current host finish
  // and stops before the next; only a second one aborts at once.
  let stopping = false;
  const onSigint = () => {
    if (stopping) return controller.abort(new Error('interrupted'));
    stopping = true;
    process.stderr.write('interrupt: finishing the control plane in progress, then stopping (Ctrl-C again to abort now)\n');
  };
  process.on('SIGINT', onSigint);
  const ctx: CertsContext = { signal: controller.signal, redact: redactor.redact };
  const connect = sshConnector();
  const results: HostResult[] = [];
  let failed: { host: string; message: string } | undefined;
  try {
    for (const host of hosts) {
      if (failed) {
        results.push({ host: host.name, role: host.role, status: 'blocked', steps: [], reason: `not started: ${failed.host} failed` });
        continue;
      }
      if (stopping) {
        results.push({ host: host.name, role: host.role, status: 'cancelled', steps: [], reason: 'not started: interrupted' });
        continue;
      }
      const steps: StepResult[] = [];
      let remote: Remote | undefined;
      try {
        remote = await recordStep(steps, 'connect', 'connect', async () => ({ value: await connect(host, controller.signal) }));
        await renewHost(remote, cluster, steps, ctx, out);
        results.push({ host: host.name, role: host.role, status: 'ok', steps });
      } catch (err) {
        const message = redactor.redact((err as Error).message);
        failed = { host: host.name, message };
        results.push({ host: host.name, role: host.role, status: controller.signal.aborted ? 'cancelled' : 'failed', steps, reason: message });
        process.stderr.write(`error: ${host.name}: ${message}\n`);
      } finally {
        remote?.close();
      }
    }
    let kubeconfigPath: string | undefined;
    if (!failed && !stopping) {
      const init = hosts[0]!;
      const steps = results[0]!.steps;
      let remote: Remote | undefined;
      try {
        kubeconfigPath = defaultKubeconfigPath(cluster);
        const target = kubeconfigPath;
        await recordStep(steps, 'certs/kubeconfig', 'admin kubeconfig fetched anew', async () => {
          remote = await connect(init, controller.signal);
          const conf = await readAdminConf(remote, { cluster, redactor, signal: controller.signal, timeoutMs: 60_000 });
          if (!conf) throw new Error(`${init.name} has no /etc/kubernetes/admin.conf`);
          await saveAdminConf(conf, target);
          return { value: undefined, detail: target };
        });
        out(`kubeconfig: ${kubeconfigPath} replaced by the renewed admin.conf (mode 0600)`);
        out(`kubeconfig: if you merged it elsewhere, merge it again: kubeforge kubeconfig --merge -i ${shellQuote(flags.inventory)}`);
      } catch (err) {
        failed = { host: init.name, message: redactor.redact((err as Error).message) };
        results[0] = { ...results[0]!, status: 'failed', reason: failed.message };
        process.stderr.write(`error: ${init.name}: cannot fetch the renewed admin.conf: ${failed.message}\n`);
      } finally {
        (remote as Remote | undefined)?.close();
      }
    }
    const interrupted = controller.signal.aborted || stopping;
    const exitCode = interrupted ? 130 : failed ? 1 : 0;
    const record: RunRecord = {
      id: newRunId(new Date(started)),
      command: 'certs renew',
      inventory: inventoryPath,
      startedAt: new Date(started).toISOString(),
      finishedAt: new Date().toISOString(),
      durationMs: Date.now() - started,
      exitCode,
      interrupted,
      hosts: results,
      ...(kubeconfigPath && !failed ? { kubeconfigPath } : {}),
    };
    const file = await writeOperation(inventoryPath, record);
    const done = results.filter((r) => r.status === 'ok').map((r) => r.host);
    if (failed) out(`certs renew stopped at ${failed.host}; the hosts after it were not touched (ledger: ${file})`);
    else if (interrupted) out(`certs renew interrupted: renewed on ${done.join(', ') || 'no host'}; run it again for the others (the laptop kubeconfig was not refreshed) (ledger: ${file})`);
    else out(`certificates renewed on ${hosts.length} control plane(s) (ledger: ${file})`);
    return exitCode;
  } finally {
    process.off('SIGINT', onSigint);
  }
}
