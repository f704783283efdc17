// The examples every command's --help ends with: the common cases, to copy and change. Keyed
// by the words that call the command ("certs renew" for a command's own command).
// help.test.ts checks that each command of the program has some, and that every option an
// example uses exists on its command.

export interface Example {
  command: string;
  /** What it does, in a few words. */
  what: string;
}

export const EXAMPLES: Readonly<Record<string, readonly Example[]>> = {
  // `kubeforge --help`: the way through, start to finish.
  '': [
    { command: 'kubeforge init', what: 'write inventory.yaml by answering questions' },
    { command: 'kubeforge up -i inventory.yaml --merge-kubeconfig', what: 'bring the cluster up, then add it to ~/.kube/config' },
    { command: 'kubeforge status', what: 'how the last run went, and the nodes' },
    { command: 'kubeforge up --help', what: "a command's options and examples" },
  ],
  up: [
    { command: 'kubeforge up -i inventory.yaml', what: 'bring every host up (rerun any time: it changes only what differs)' },
    { command: 'kubeforge up -i inventory.yaml --accept-new-host-keys', what: 'first run: trust and record host keys not yet in known_hosts' },
    { command: 'kubeforge up --retry-failed', what: 'rerun only the hosts that failed or were blocked' },
    { command: 'kubeforge up --limit w1,w2', what: 'only these hosts (also --limit role=worker)' },
    { command: 'kubeforge up --merge-kubeconfig', what: "then merge the cluster's admin kubeconfig into ~/.kube/config" },
    { command: 'kubeforge up --json --no-progress > run.jsonl', what: 'progress and summary as JSON lines, for scripts' },
  ],
  init: [
    { command: 'kubeforge init', what: 'answer questions; each host is checked as it is added' },
    {
      command: 'kubeforge init --yes --host 10.0.0.10 --host 10.0.0.11 --key ~/.ssh/id_ed25519 --kubernetes-version 1.30.2 --containerd-bundle ./containerd-1.7.20-linux-amd64.tar.gz',
      what: 'no questions: everything from flags (for scripts)',
    },
    { command: 'kubeforge init staging.yaml --force', what: 'write (or replace) another file' },
  ],
  status: [
    { command: 'kubeforge status -i inventory.yaml', what: "the last run per host, and the nodes' readiness" },
    { command: 'kubeforge status --no-nodes', what: 'from the ledger only, no SSH connection' },
    { command: 'kubeforge status --json', what: 'as JSON' },
  ],
  plan: [
    { command: 'kubeforge plan -i inventory.yaml', what: 'what `up` would change on each host, with diffs; changes nothing' },
    { command: 'kubeforge plan --detailed-exitcode', what: 'exit 2 when something would change (for CI)' },
    { command: 'kubeforge plan --json', what: 'as JSON' },
  ],
  reset: [
    { command: 'kubeforge reset --limit w3', what: 'drain, delete and reset one worker (asks first)' },
    { command: 'kubeforge reset --all --yes', what: 'tear the whole cluster down without asking' },
    { command: 'kubeforge reset --limit role=worker --remove-images', what: "every worker, containerd's images too" },
  ],
  certs: [
    { command: 'kubeforge certs renew -i inventory.yaml', what: "renew the control planes' certificates, one at a time (asks first)" },
  ],
  'certs renew': [
    { command: 'kubeforge certs renew -i inventory.yaml', what: 'renew on every control plane, one at a time (asks first)' },
    { command: 'kubeforge certs renew --yes', what: 'without asking (scripts, no terminal)' },
  ],
  backup: [
    { command: 'kubeforge backup -i inventory.yaml', what: 'an etcd snapshot and the PKI, into backups/ beside the inventory' },
    { command: 'kubeforge backup -o /srv/backups/prod', what: 'into another folder' },
  ],
  kubeconfig: [
    { command: 'kubeforge kubeconfig -i inventory.yaml > admin.conf', what: "print the cluster's admin kubeconfig" },
    { command: 'kubeforge kubeconfig --merge', what: 'merge it into $KUBECONFIG or ~/.kube/config (backup kept, other entries untouched)' },
    { command: 'kubeforge kubeconfig --merge --server https://203.0.113.10:6443', what: 'with the API server as this machine reaches it' },
  ],
  completion: [
    { command: 'source <(kubeforge completion bash)', what: 'bash, this shell only' },
    { command: 'kubeforge completion bash > ~/.local/share/bash-completion/completions/kubeforge', what: 'bash, for good' },
    { command: 'kubeforge completion zsh > "${fpath[1]}/_kubeforge"', what: 'zsh' },
    { command: 'kubeforge completion fish > ~/.config/fish/completions/kubeforge.fish', what: 'fish' },
  ],
};

/** The text after a command's --help: "Examples:" and one indented pair of lines per example. */
export function examplesHelp(command: string): string | undefined {
  const examples = EXAMPLES[command];
  if (!examples || examples.length === 0) return undefined;
  return ['', 'Examples:', ...examples.flatMap((e) => [`  # ${e.what}`, `  $ ${e.command}`])].join('\n');
}
