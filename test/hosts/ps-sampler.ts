// Samples a full test host's process list (every command line, untruncated) about ten times a
// second while a test runs kubeforge against it, so the test can check afterwards what any
// remote process carried in its argv. Runs inside the host as a transient systemd unit; the
// samples are kept in a file on the host.
import type { TestHost } from './host.js';

const UNIT = 'kubeforge-test-ps-sampler';
/** Where the samples are kept on the host; tests that search the host's files skip it. */
export const PS_SAMPLES_FILE = '/var/tmp/kubeforge-test-ps-samples';
const SEPARATOR = '--- sample ---';

export interface PsSamples {
  /** How many times the process list was taken. */
  count: number;
  /** Every command line seen, once each. */
  commandLines: string[];
  /** All samples as one text, for searching. */
  text: string;
}

export async function startPsSampler(host: TestHost): Promise<void> {
  if (host.kind !== 'full') throw new Error('the ps sampler runs under systemd: full hosts only');
  await host.exec(
    `rm -f ${PS_SAMPLES_FILE}
     systemd-run --quiet --unit ${UNIT} /bin/sh -c 'while :; do ps -ww -eo args; echo "${SEPARATOR}"; sleep 0.1; done >> ${PS_SAMPLES_FILE}'`,
  );
}

/** Stops sampling and returns what was seen. */
export async function stopPsSampler(host: TestHost): Promise<PsSamples> {
  await host.exec(`systemctl stop ${UNIT}`, { allowFail: true });
  const text = (await host.exec(`cat ${PS_SAMPLES_FILE}`)).stdout;
  const lines = text.split('\n');
  return {
    count: lines.filter((l) => l === SEPARATOR).length,
    commandLines: [...new Set(lines.filter((l) => l !== SEPARATOR && l.trim() !== '' && l !== 'COMMAND'))],
    text,
  };
}
