// Contact a host while it is being added: log in exactly as `kubeforge up` will (same user,
// credentials and known_hosts), ask about an unknown host key, and read the facts. What can go
// wrong comes back as a problem for the wizard to offer choices about, not as an exception.
import { InterruptedError, KubeforgeError } from '../../errors.js';
import type { SshSettings } from '../../model.js';
import { AbortError, AuthError, ConnectError, HostKeyError, connect, type UnknownHostKey } from '../../ssh/index.js';
import { FACTS_SCRIPT, parseFacts, type HostFacts } from './facts.js';

export interface ProbeRequest {
  /** Host name for messages (may still be a placeholder such as the address). */
  name: string;
  address: string;
  port: number;
  settings: SshSettings;
  /** Asked when known_hosts does not have the host's key; true records it. */
  askHostKey?(key: UnknownHostKey): Promise<boolean>;
  signal?: AbortSignal;
}

export type ProbeProblemKind = 'unreachable' | 'auth' | 'host-key' | 'failed';

export interface ProbeProblem {
  kind: ProbeProblemKind;
  message: string;
  hint?: string;
}

export type ProbeOutcome = { ok: true; facts: HostFacts } | { ok: false; problem: ProbeProblem };

export type Prober = (request: ProbeRequest) => Promise<ProbeOutcome>;

const FACTS_TIMEOUT_MS = 20_000;

export const probeHost: Prober = async (request) => {
  const { name, address, port, settings, signal } = request;
  let conn;
  try {
    conn = await connect({ host: address, port, name }, settings, {
      // Someone is waiting: say what is wrong at once instead of retrying for seconds.
      retries: 0,
      ...(signal ? { signal } : {}),
      ...(request.askHostKey ? { onUnknownHostKey: request.askHostKey } : {}),
    });
  } catch (err) {
    if (err instanceof AbortError || signal?.aborted) throw new InterruptedError();
    return { ok: false, problem: connectProblem(err) };
  }
  try {
    const result = await conn.exec(FACTS_SCRIPT, { timeoutMs: FACTS_TIMEOUT_MS, ...(signal ? { signal } : {}) });
    const facts = parseFacts(result.stdout);
    if (facts) return { ok: true, facts };
    const output = (result.stderr || result.stdout).trim().split('\n').slice(-3).join(' | ');
    return {
      ok: false,
      problem: { kind: 'failed', message: `${name}: logged in, but could not read the host's facts (exit ${result.code}${output ? `: ${output}` : ''})` },
    };
  } catch (err) {
    if (err instanceof AbortError || signal?.aborted) throw new InterruptedError();
    return { ok: false, problem: { kind: 'failed', message: (err as Error).message } };
  } finally {
    conn.close();
  }
};

export function connectProblem(err: unknown): ProbeProblem {
  const hint = err instanceof KubeforgeError ? err.hint : undefined;
  const message = err instanceof Error ? err.message : String(err);
  const kind: ProbeProblemKind =
    err instanceof HostKeyError ? 'host-key' : err instanceof AuthError ? 'auth' : err instanceof ConnectError ? 'unreachable' : 'failed';
  return { kind, message, ...(hint ? { hint } : {}) };
}
