// Progress as plain, timestamped lines prefixed with the host name: for logs, CI, and any
// output that is not a terminal.
import { formatBytes } from '../playbook/run-steps.js';
import type { HostResult, RunEvents, StepResult } from '../run/outcome.js';

export function plainReporter(write: (line: string) => void, now: () => Date = () => new Date()): RunEvents {
  const lastQuarter = new Map<string, number>();
  const line = (host: string, text: string) => write(`${now().toISOString()} ${host} ${text}`);
  return {
    hostActivity(host, text) {
      if (text === 'connecting' || text.startsWith('kubeadm') || text.startsWith('waiting for') || text === 'applying the network add-on') line(host, text);
    },
    stepStart() {},
    uploadProgress(host, key, bundle, sent, total, from) {
      // A line at each quarter, not per chunk.
      const quarter = total === 0 ? 4 : Math.floor((sent / total) * 4);
      const id = `${host} ${key} ${bundle}`;
      if ((lastQuarter.get(id) ?? -1) >= quarter) return;
      lastQuarter.set(id, quarter);
      const what = from ? `receiving ${bundle} from ${from}` : `sending ${bundle}`;
      line(host, `${key}: ${what} ${quarter * 25}% (${formatBytes(sent)} of ${formatBytes(total)})`);
    },
    stepEnd(host, result) {
      // Steps that never ran are summed up by the host's own line.
      if ((result.status === 'blocked' || result.status === 'cancelled') && result.durationMs === 0) return;
      line(host, describeStep(result));
    },
    hostEnd(result) {
      line(result.host, result.status === 'ok' ? 'done' : result.status === 'reset' ? 'reset' : `${result.status}: ${result.reason ?? ''}`);
    },
  };
}

export function describeStep(r: StepResult): string {
  const took = r.durationMs >= 100 ? ` (${(r.durationMs / 1000).toFixed(1)} s)` : '';
  const detail = r.detail ? `: ${r.detail}` : '';
  const error = r.error ? `: ${r.error.message}` : '';
  return `${r.key} ${r.status}${detail}${error}${took}`;
}

/** The summary after a run: one row per host (with its node's readiness when kubeforge waited for it). */
export function summaryTable(results: HostResult[]): string {
  const withNode = results.some((h) => h.node);
  const rows = results.map((h) => {
    const counts = countSteps(h);
    const node = h.node ? (h.node.ready ? 'Ready' : 'NotReady') : '-';
    return [h.host, h.role, h.status === 'ok' || h.status === 'reset' ? h.status : h.status.toUpperCase(), ...(withNode ? [node] : []), counts, h.reason ?? ''];
  });
  const header = ['HOST', 'ROLE', 'STATUS', ...(withNode ? ['NODE'] : []), 'STEPS', 'REASON'];
  const widths = header.map((title, i) => Math.max(title.length, ...rows.map((r) => (r[i] ?? '').length)));
  const fmt = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [fmt(header), ...rows.map(fmt)].join('\n');
}

function countSteps(h: HostResult): string {
  const n = (s: string) => h.steps.filter((x) => x.status === s).length;
  const parts = [`${n('changed')} changed`, `${n('unchanged') + n('verified')} unchanged`];
  if (n('failed')) parts.push(`${n('failed')} failed`);
  if (n('blocked') || n('cancelled')) parts.push(`${n('blocked') + n('cancelled')} not run`);
  return parts.join(', ');
}
