// Waiting between connection attempts: exponential, capped, and cut short by an abort.

export interface Backoff {
  initialMs: number;
  maxMs: number;
}

export const DEFAULT_BACKOFF: Backoff = { initialMs: 500, maxMs: 8000 };

/**
 * Delay before retry number `attempt` (1-based): initial, 2×, 4× … up to max, of which a random
 * half ("equal jitter"): hosts refused together (sshd's MaxStartups, a bastion under load) must
 * not all come back at the same instant and be refused together again.
 */
export function backoffDelay(attempt: number, backoff: Backoff = DEFAULT_BACKOFF, random: () => number = Math.random): number {
  const ceiling = Math.min(backoff.initialMs * 2 ** (attempt - 1), backoff.maxMs);
  return ceiling / 2 + random() * (ceiling / 2);
}

/** Resolves after `ms`; rejects with `onAbort()` as soon as `signal` aborts. */
export function sleep(ms: number, signal: AbortSignal | undefined, onAbort: () => Error): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(onAbort());
    const abort = () => {
      clearTimeout(timer);
      reject(onAbort());
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', abort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', abort, { once: true });
  });
}
