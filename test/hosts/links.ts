// Network faults on a test host's link, applied on this machine's end of it: a slow link (tc
// tbf), random loss (iptables statistic: this kernel has no netem), or the link down. Only
// the fleet's own addresses are ever matched.
import { run } from './exec.js';
import type { TestHost } from './host.js';

/** Limit traffic towards the host (uploads) to `rateKbit`. */
export async function slowLink(host: TestHost, rateKbit: number): Promise<void> {
  await run('tc', ['qdisc', 'replace', 'dev', host.record.hostInterface, 'root', 'tbf', 'rate', `${rateKbit}kbit`, 'burst', '32kbit', 'latency', '400ms']);
}

/** Drop this fraction (0..1) of packets sent to the host, at random. */
export async function lossyLink(host: TestHost, probability: number): Promise<void> {
  await run('iptables', ['-w', '-I', 'OUTPUT', ...lossRule(host, probability)]);
}

function lossRule(host: TestHost, probability: number): string[] {
  return ['-d', `${host.address}/32`, '-m', 'statistic', '--mode', 'random', '--probability', String(probability), '-m', 'comment', '--comment', `kubeforge-test-${host.address}`, '-j', 'DROP'];
}

/** Undo slowLink and lossyLink. */
export async function healLink(host: TestHost): Promise<void> {
  await run('tc', ['qdisc', 'del', 'dev', host.record.hostInterface, 'root'], { allowFail: true });
  await removeLossRules((address) => address === host.address);
}

/** Deletes the loss rules lossyLink added for addresses `matches` accepts. */
export async function removeLossRules(matches: (address: string) => boolean): Promise<void> {
  const rules = await run('iptables', ['-w', '-S', 'OUTPUT'], { allowFail: true });
  for (const line of rules.stdout.split('\n')) {
    const address = /kubeforge-test-(\d+\.\d+\.\d+\.\d+)/.exec(line)?.[1];
    if (!address || !matches(address)) continue;
    const args = line.replace(/^-A /, '-D ').match(/"[^"]*"|\S+/g)?.map((a) => a.replace(/^"|"$/g, '')) ?? [];
    await run('iptables', ['-w', ...args], { allowFail: true });
  }
}
