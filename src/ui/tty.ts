// Progress in a terminal: listr2, one line per host with its current step and upload progress.
// The tasks only mirror the run's events; the run itself is driven elsewhere.
import { Listr, type ListrDefaultRenderer, type ListrSimpleRenderer, type ListrTaskWrapper } from 'listr2';
import { formatBytes } from '../playbook/run-steps.js';
import type { HostResult, RunEvents } from '../run/outcome.js';

type Task = ListrTaskWrapper<unknown, ListrDefaultRenderer, ListrSimpleRenderer>;

export interface TtyProgress {
  events: RunEvents;
  /** Resolves once every host's line is final. */
  done: Promise<void>;
}

export function ttyProgress(hosts: string[]): TtyProgress {
  const tasks = new Map<string, Task>();
  const finished = new Map<string, (r: HostResult) => void>();
  const pendingFinal = new Map<string, HostResult>();
  const list = new Listr(
    hosts.map((host) => ({
      title: `${host}: waiting`,
      task: (_ctx: unknown, task: Task) =>
        new Promise<void>((resolve, reject) => {
          tasks.set(host, task);
          const settle = (r: HostResult) => {
            if (r.status === 'ok') {
              const changed = r.steps.filter((st) => st.status === 'changed').length;
              task.title = `${host}: done (${changed} changed, ${r.steps.length - changed} unchanged)`;
              resolve();
            } else {
              reject(new Error(`${host}: ${r.status}${r.reason ? `: ${r.reason}` : ''}`));
            }
          };
          const early = pendingFinal.get(host);
          if (early) settle(early);
          else finished.set(host, settle);
        }),
    })),
    {
      concurrent: true,
      exitOnError: false,
      renderer: 'default',
      rendererOptions: { collapseErrors: false, showErrorMessage: true },
    },
  );
  const done = list.run().then(
    () => undefined,
    () => undefined,
  );
  const title = (host: string, text: string) => {
    const t = tasks.get(host);
    if (t) t.title = `${host}: ${text}`;
  };
  const events: RunEvents = {
    hostActivity: (host, text) => title(host, text),
    stepStart: (host, key, t) => title(host, `${key} — ${t}`),
    uploadProgress: (host, key, bundle, sent, total) => {
      const pct = total ? Math.floor((sent / total) * 100) : 100;
      title(host, `${key}: sending ${bundle} ${pct}% (${formatBytes(sent)} of ${formatBytes(total)})`);
    },
    stepEnd: () => {},
    hostEnd: (r) => {
      const settle = finished.get(r.host);
      if (settle) settle(r);
      else pendingFinal.set(r.host, r);
    },
  };
  return { events, done };
}
