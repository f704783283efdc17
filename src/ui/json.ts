// Progress as JSON lines (--json), one event per line, for scripts.
import type { RunEvents } from '../run/outcome.js';

export function jsonReporter(write: (line: string) => void): RunEvents {
  const emit = (event: Record<string, unknown>) => write(JSON.stringify({ time: new Date().toISOString(), ...event }));
  return {
    hostActivity: (host, text) => emit({ event: 'activity', host, text }),
    stepStart: (host, key, title) => emit({ event: 'step-start', host, step: key, title }),
    uploadProgress: (host, key, bundle, sent, total, from) => emit({ event: 'upload', host, step: key, bundle, sent, total, ...(from ? { from } : {}) }),
    stepEnd: (host, result) => emit({ event: 'step-end', host, ...result }),
    hostEnd: (result) => emit({ event: 'host-end', host: result.host, status: result.status, reason: result.reason }),
  };
}
