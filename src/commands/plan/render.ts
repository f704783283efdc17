// The plan for people: compact, hosts with nothing to do in one line, every diff indented under
// its step. Pure: report in, text out.
import { formatBytes } from '../../playbook/run-steps.js';
import type { ClusterAction, HostReport, PlanReport, StepChange } from './report.js';

export function renderPlan(report: PlanReport): string {
  const out: string[] = [];
  const idle = report.hosts.filter((h) => h.status === 'planned' && h.steps.length === 0 && (h.preflight?.errors.length ?? 0) === 0);
  for (const h of report.hosts) {
    if (idle.includes(h)) continue;
    out.push(...hostLines(h), '');
  }
  if (idle.length > 0) {
    const steps = idle.reduce((n, h) => n + h.unchanged, 0);
    out.push(`nothing to do on ${idle.length} host${plural(idle.length)} (${steps} step${plural(steps)} unchanged): ${idle.map((h) => h.host).join(', ')}`, '');
  }
  out.push('cluster:');
  const actions = report.clusterActions.map(actionLine);
  out.push(...(actions.length ? actions.map((a) => `  ${a}`) : ['  nothing to do']), '');
  out.push(summaryLine(report));
  return out.join('\n');
}

function hostLines(h: HostReport): string[] {
  if (h.status === 'unreachable') {
    return [`${h.host} (${h.role}): NOT PLANNED: ${h.error?.message ?? 'unreachable'}`, ...(h.error?.hint ? [`  hint: ${h.error.hint}`] : [])];
  }
  const run = h.steps.filter((s) => s.action === 'run').length;
  const fail = h.steps.length - run;
  const after = h.verifyAfter ?? 0;
  const counts = [`${run} step${plural(run)} would run`, ...(fail ? [`${fail} would fail`] : []), ...(after ? [`${after} verif${after === 1 ? 'y' : 'ies'} after them`] : []), `${h.unchanged} unchanged`];
  const lines = [`${h.host} (${h.role}): ${counts.join(', ')}`];
  for (const e of h.preflight?.errors ?? []) lines.push(`  ! preflight: ${e}`);
  for (const w of h.preflight?.warnings ?? []) lines.push(`  preflight warning: ${w}`);
  if (h.preflight?.willInstall.length) lines.push(`  preflight: missing ${h.preflight.willInstall.join(', ')}, which prepare/os-packages would install`);
  if (h.preflight?.errors.length) lines.push('  (up would stop at the preflight: nothing would change on any host)');
  for (const s of h.steps) lines.push(...stepLines(s));
  return lines;
}

function stepLines(s: StepChange): string[] {
  const lines = [`  ${s.action === 'run' ? '~' : '!'} ${s.key}: ${s.title}${s.action === 'fail' ? ' — would FAIL' : ''}`, `      why: ${s.reasons.join('; ')}`];
  if (s.check) {
    const said = s.check.output ? `: ${s.check.output}` : '';
    lines.push(`      check: ${s.check.command} → ${s.check.exitCode === 'timeout' ? 'timed out' : `exit ${s.check.exitCode}`}${said}`);
  }
  for (const b of s.bundles) {
    lines.push(`      bundle ${b.name} (${formatBytes(b.size)}): ${b.onHost ? 'already on the host, not sent' : 'would be sent'}`);
  }
  for (const f of s.files) {
    const mode = f.mode.host && f.mode.host !== f.mode.planned ? `, mode ${f.mode.host} → ${f.mode.planned}` : '';
    const what = f.change === 'create' ? `would be created (mode ${f.mode.planned})` : f.change === 'mode' ? `content unchanged${mode}` : `would change${mode}`;
    lines.push(`      file ${f.path}: ${what}`);
    if (f.notShown) lines.push(`        (diff not shown: ${f.notShown})`);
    else if (f.diff === '' && f.change === 'modify') lines.push('        (differs only in redacted secrets)');
    else if (f.diff) lines.push(...f.diff.split('\n').map((l) => `        ${l}`));
  }
  return lines;
}

function actionLine(a: ClusterAction): string {
  switch (a.action) {
    case 'init':
      return `+ kubeadm init on ${a.host} (a join token${a.certificateKey ? ' and certificate key' : ''} made on this machine)`;
    case 'mint-join-material':
      return `+ a fresh join token${a.certificateKey ? ' and certificate key' : ''} minted on ${a.on}`;
    case 'join':
      return `+ ${a.host} joins as ${a.role === 'control-plane' ? 'a control plane' : 'a worker'} (with the ${a.material === 'init' ? "init's" : 'minted'} token)`;
    case 'apply-addon':
      return `+ network add-on ${a.manifest} applied from ${a.on}`;
    case 'wait-ready':
      return `  then up waits up to ${Math.round(a.timeoutMs / 1000)} s for these nodes to be Ready: ${a.hosts.join(', ')}`;
    case 'upgrade':
      return `~ ${a.summary} (each node: kubeadm, drain, kubelet swapped and restarted, Ready, uncordon)`;
    case 'refuse-upgrade':
      return `! up would refuse: ${a.message}\n      hint: ${a.hint}`;
  }
}

function summaryLine(r: PlanReport): string {
  const run = r.hosts.reduce((n, h) => n + h.steps.filter((s) => s.action === 'run').length, 0);
  const hosts = r.hosts.filter((h) => h.steps.some((s) => s.action === 'run')).length;
  const cluster = r.clusterActions.filter((a) => a.action !== 'wait-ready').length;
  const unreachable = r.hosts.filter((h) => h.status === 'unreachable').length;
  const parts: string[] = [];
  if (!r.changes) parts.push('no changes: every host and the cluster are as the inventory says');
  else parts.push(`plan: ${run} step${plural(run)} would run on ${hosts} host${plural(hosts)}, ${cluster} cluster action${plural(cluster)}`);
  if (unreachable) parts.push(`${unreachable} host${plural(unreachable)} could not be planned`);
  if (r.hosts.some((h) => (h.preflight?.errors.length ?? 0) > 0)) parts.push('the preflight would stop up');
  if (r.hosts.some((h) => h.steps.some((s) => s.action === 'fail'))) parts.push('some step would fail');
  return `${parts.join('; ')} (plan changed nothing)`;
}

function plural(n: number): string {
  return n === 1 ? '' : 's';
}
