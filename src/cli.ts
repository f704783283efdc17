#!/usr/bin/env -S node --max-semi-space-size=4
// The flag caps V8's young generation at 8 MiB instead of 32: a run churns small buffers for
// every host's SSH traffic, and a young generation collected lazily is peak memory for nothing
// (a 50-host cold run: 128–131 MiB peak without it, 119–120 MiB with it, in no more time).
// Commands and exit codes only: each command's work lives in its own module.
import { Argument, Command } from 'commander';
import { realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { commanderExitCode, configureHelp } from './commands/help/index.js';
import { detailedExitCodeOf, exitCodeOf, formatError, InputError } from './errors.js';

const require = createRequire(import.meta.url);
// dist/src/cli.js and src/cli.ts both sit two levels below package.json's folder or one.
const pkg = loadPackageJson();

function loadPackageJson(): { version: string } {
  for (const candidate of ['../../package.json', '../package.json']) {
    try {
      return require(candidate) as { version: string };
    } catch {
      // try the next layout
    }
  }
  return { version: '0.0.0' };
}

export const program = new Command()
  .name('kubeforge')
  .description('Bring up a Kubernetes cluster on containerd over SSH, from one inventory file.')
  .version(pkg.version, '-V, --version');

/** Runs a command's function and turns its result or error into the exit code. */
function action<A extends unknown[]>(fn: (...args: A) => Promise<number>) {
  return async (...args: A) => {
    // Should a bug leave the command waiting on something that can no longer happen, Node
    // would drain its event loop and exit 0; say so and fail instead.
    let finished = false;
    const stalled = () => {
      if (finished) return;
      process.stderr.write('error: kubeforge stopped making progress before it finished (this is a bug; the ledger may be incomplete)\n');
      process.exitCode = 70;
    };
    process.once('beforeExit', stalled);
    try {
      process.exitCode = await fn(...args);
    } catch (err) {
      throw withHelpHint(err, args.at(-1));
    } finally {
      finished = true;
      process.off('beforeExit', stalled);
    }
  };
}

/** A flag's InputError without a hint gets one: the command's --help (the flag errors' rule). */
function withHelpHint(err: unknown, command: unknown): unknown {
  if (!(err instanceof InputError) || err.hint !== undefined || !err.where.startsWith('-') || !(command instanceof Command)) return err;
  return new InputError(err.where, err.detail, `see \`kubeforge ${command.name()} --help\``);
}

program
  .command('up')
  .description('bring every host of the inventory to a Kubernetes node on containerd (idempotent: rerun any time)')
  .option('-i, --inventory <file>', 'inventory file', 'inventory.yaml')
  .option('--accept-new-host-keys', 'trust and record the keys of hosts not yet in known_hosts (trust on first use)')
  .option('--retry-failed', 'run only the hosts that failed or were blocked in their latest run')
  .option('--limit <hosts>', 'run only these hosts: NAME,NAME or role=worker / role=control-plane')
  .option('--max-fail <n>', 'stop starting hosts once this many (or this percentage, e.g. 20%) have failed')
  .option('--max-unavailable <n>', 'an upgrade drains and upgrades this many workers at once (control planes: always one)', '1')
  .option('-c, --concurrency <n>', 'hosts worked on at once (bundles from this machine are bounded by --upload-concurrency)', '64')
  .option('--upload-concurrency <n>', 'bundle uploads from this machine at once, across hosts', '8')
  .option('--relay <on|off>', "hosts pass bundles on to each other so this machine sends about one copy (default: the inventory's relay.enabled, on)")
  .option('--step-timeout <duration>', "override every step's timeout, e.g. 10m")
  .option('--json', 'progress and summary as JSON lines')
  .option('--playbooks <dir>', 'use the playbooks in this folder instead of the shipped ones')
  .option('--ask-sudo-password', 'ask once (hidden) for the sudo password of hosts reached as a user other than root')
  .option('--wait <duration>', 'how long each node may take to become Ready after joining (0s: do not wait)', '5m')
  .option('--no-progress', 'no progress display, only the summary (a terminal shows a live view; CI=true and pipes get plain lines)')
  .option('--merge-kubeconfig', "after a successful run, merge the cluster's admin kubeconfig into $KUBECONFIG or ~/.kube/config (see `kubeforge kubeconfig --merge`)")
  .option('-v, --verbose', 'print where each host\'s SSH settings came from: the inventory, the ssh config (file:line) or the default')
  .action(action(async (flags) => (await import('./commands/up/index.js')).upCommand(flags)));

program
  .command('plan')
  .description('show what `up` would change on each host and in the cluster, with diffs (secrets redacted); changes nothing')
  .option('-i, --inventory <file>', 'inventory file', 'inventory.yaml')
  .option('--limit <hosts>', 'plan only these hosts: NAME,NAME or role=worker / role=control-plane')
  .option('--json', 'the plan as one JSON document')
  .option('--detailed-exitcode', 'exit 0 when nothing would change, 2 when something would, 1 on any error (as terraform plan)')
  .option('-c, --concurrency <n>', 'hosts gathered at once', '64')
  .option('--playbooks <dir>', 'use the playbooks in this folder instead of the shipped ones')
  .option('--ask-sudo-password', 'ask once (hidden) for the sudo password of hosts reached as a user other than root')
  .option('--wait <duration>', "up's --wait, for what the plan says about waiting for Ready nodes", '5m')
  .option('--max-unavailable <n>', "up's --max-unavailable, for what the plan says about an upgrade's worker batches", '1')
  .action(action(async (flags) => (await import('./commands/plan/index.js')).planCommand(flags)));

program
  .command('init [file]')
  .description('build an inventory by answering questions, checking every host as it is added (default file: inventory.yaml)')
  .option('--name <cluster>', 'cluster name')
  .option('--kubernetes-version <version>', 'Kubernetes version, X.Y.Z')
  .option('--kubernetes-bundle <path|url>', 'tarball with bin/kubeadm and bin/kubelet; a download as URL@sha256:HEX')
  .option('--image <path|url>', 'image archive imported on every host (repeat for more)', (value: string, previous?: string[]) => [...(previous ?? []), value])
  .option('--containerd-bundle <path|url>', 'containerd release tarball; a download as URL@sha256:HEX')
  .option('--containerd-version <version>', "containerd version, when the bundle's file name does not say it")
  .option('--offline', 'the image archives are the only source of images (the hosts reach no registry)')
  .option('--cri-tools <path|url>', 'cri-tools release tarball (crictl, which kubeadm needs); a download as URL@sha256:HEX')
  .option('--cni-plugins <path|url>', 'containernetworking-plugins release tarball; a download as URL@sha256:HEX')
  .option('--network-manifest <path|url>', 'network add-on manifest (kube-flannel.yml, calico.yaml; without one nodes stay NotReady); a download as URL@sha256:HEX')
  .option('--os-packages <path|url>', 'tarball of .deb files, for hosts without a package mirror; a download as URL@sha256:HEX')
  .option('--user <name>', 'SSH user on the hosts (default root)')
  .option('--port <n>', 'SSH port on the hosts (default 22)')
  .option('--key <file>', 'log in with this private key')
  .option('--agent', 'log in with the keys of the ssh-agent at $SSH_AUTH_SOCK')
  .option('--password-env <var>', 'log in with the password this environment variable holds')
  .option('--passphrase-env <var>', "environment variable holding the key's passphrase")
  .option('--known-hosts <file>', 'known_hosts file for host keys (default ~/.ssh/known_hosts)')
  .option('--host <spec>', 'ADDRESS[:PORT][,name=NAME][,role=control-plane|worker][,internal=IP]; repeat per host', (value: string, previous?: string[]) => [...(previous ?? []), value])
  .option('--accept-new-host-keys', 'trust and record the keys of hosts not yet in known_hosts without asking')
  .option('--no-probe', 'do not contact the hosts (nothing is checked)')
  .option('-y, --yes', 'ask nothing: flags and defaults only (works without a terminal)')
  .option('-f, --force', 'replace the file if it exists')
  .action(action(async (file: string | undefined, flags) => (await import('./commands/init/index.js')).initCommand(file, flags)));

program
  .command('status')
  .description("show the last run's result per host (from the ledger) and the nodes' readiness (from the cluster)")
  .option('-i, --inventory <file>', 'inventory file', 'inventory.yaml')
  .option('--json', 'as JSON')
  .option('--no-nodes', 'do not ask the cluster for its nodes (no SSH connection)')
  .action(action(async (flags) => (await import('./commands/status/index.js')).statusCommand(flags)));

program
  .command('reset')
  .description('take hosts out of the cluster (drain, delete node) and remove what kubeforge installed on them; `up` brings them back')
  .option('-i, --inventory <file>', 'inventory file', 'inventory.yaml')
  .option('--limit <hosts>', 'reset these hosts: NAME,NAME or role=worker / role=control-plane (not the init host while others remain)')
  .option('--all', 'reset every host: workers first, then the other control planes, the init host last')
  .option('-y, --yes', 'do not ask for confirmation (needed without a terminal)')
  .option('--remove-images', "also remove containerd's images and data (/var/lib/containerd)")
  .option('--drain-timeout <duration>', "how long kubectl drain may take to evict a node's pods", '5m')
  .option('-c, --concurrency <n>', 'workers reset at once (control planes go one at a time)', '64')
  .option('--json', 'progress and summary as JSON lines')
  .option('--accept-new-host-keys', 'trust and record the keys of hosts not yet in known_hosts (trust on first use)')
  .option('--ask-sudo-password', 'ask once (hidden) for the sudo password of hosts reached as a user other than root')
  .option('--playbooks <dir>', 'the playbooks `up` used, if not the shipped ones (their steps say what to remove)')
  .action(action(async (flags) => (await import('./commands/reset/index.js')).resetCommand(flags)));

program
  .command('kubeconfig')
  .description("print the cluster's admin kubeconfig (saved by `up`), or merge it into $KUBECONFIG or ~/.kube/config")
  .option('-i, --inventory <file>', 'inventory file', 'inventory.yaml')
  .option('--merge', 'merge into the first file of $KUBECONFIG, else ~/.kube/config: cluster NAME, user NAME-admin, context NAME; other entries untouched, the previous file kept as FILE.kubeforge-backup')
  .option('--server <url>', "the API server's URL as this machine reaches it, instead of admin.conf's")
  .action(action(async (flags) => (await import('./commands/kubeconfig/index.js')).kubeconfigCommand(flags)));

program
  .command('completion')
  .description('print a shell completion script: commands, options, and the inventory\'s host names for --limit')
  .addArgument(new Argument('<shell>', 'bash, zsh or fish').choices(['bash', 'zsh', 'fish']))
  .action(action(async (shell: string) => (await import('./commands/completion/index.js')).completionCommand(shell, program, pkg.version)));

// Called by the completion scripts; reads the inventory file only, never connects.
program
  .command('__complete <what>', { hidden: true })
  .option('-i, --inventory <file>', 'inventory file', 'inventory.yaml')
  .action(action(async (what: string, flags) => (await import('./commands/completion/index.js')).completeCommand(what, flags)));

const certs = program.command('certs').description("the control planes' certificates (kubeadm's; `status` shows when they expire)");
certs
  .command('renew')
  .description('renew the certificates on every control plane, one at a time, restart the control-plane static Pods, refresh the admin kubeconfig')
  .option('-i, --inventory <file>', 'inventory file', 'inventory.yaml')
  .option('-y, --yes', 'do not ask for confirmation (needed without a terminal)')
  .action(action(async (flags) => (await import('./commands/certs/index.js')).certsRenewCommand(flags)));

program
  .command('backup')
  .description("take an etcd snapshot on a control plane, verify it, and bring it here with its sha256 and the cluster's PKI")
  .option('-i, --inventory <file>', 'inventory file', 'inventory.yaml')
  .option('-o, --output <dir>', 'where backups go, one folder per backup (default: backups/ beside the inventory)')
  .action(action(async (flags) => (await import('./commands/backup/index.js')).backupCommand(flags)));

// Every command is defined above: configureHelp gives each its examples and flag-error hints.
configureHelp(program);

/** True when this file is the program being run, not a module imported (by a test). */
function isMain(): boolean {
  const invoked = process.argv[1];
  if (!invoked) return false;
  try {
    return realpathSync(invoked) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

/**
 * A reader that went away (`kubeforge --help | head -1`, `kubeforge plan | less` quit early) is
 * not a failure: further output to it is dropped, and the command goes on to its end (an `up`
 * half done because its output was cut would be worse than the output lost).
 */
function dropOutputToClosedPipes(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EPIPE') throw err;
      stream.write = (() => true) as typeof stream.write;
    });
  }
}

if (isMain()) {
  dropOutputToClosedPipes();
  program.parseAsync(process.argv).catch((err: unknown) => {
    // commander has written its message (with a hint) or the help already.
    const commanderCode = commanderExitCode(err);
    if (commanderCode !== undefined) {
      // Under plan --detailed-exitcode, 2 means "something would change": a flag error is 1 there.
      process.exitCode = commanderCode === 2 && process.argv.includes('--detailed-exitcode') ? detailedExitCodeOf(new InputError('flags', '')) : commanderCode;
      return;
    }
    process.stderr.write(formatError(err) + '\n');
    process.exitCode = exitCodeOf(err);
  });
}
