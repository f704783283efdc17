// `kubeforge init [FILE]`: questions (or flags) → hosts checked as they are added → a commented
// inventory that `kubeforge up` accepts, written atomically → the command to run next.
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { InputError, InputErrors, InterruptedError } from '../../errors.js';
import { loadInventory } from '../../inventory/index.js';
import { SCHEMA_FILE, packageRoot } from '../../inventory/write-schema.js';
import { shellQuote } from '../../ssh/index.js';
import { secretVariables, type InitAnswers } from './answers.js';
import { renderInventory, schemaReference } from './document.js';
import { presetFromFlags, requireForYes, type InitFlags } from './flags.js';
import { probeHost } from './probe.js';
import { defaultAnswers, terminalPrompts, type Prompts } from './prompts.js';
import { findPrivateKeys } from './ssh-keys.js';
import { runWizard } from './wizard.js';
import { writeInventoryFile } from './write.js';

export type { InitFlags } from './flags.js';

export const DEFAULT_INVENTORY_FILE = 'inventory.yaml';

export async function initCommand(file: string | undefined, flags: InitFlags): Promise<number> {
  const out = (line: string) => process.stdout.write(line + '\n');
  const err = (line: string) => process.stderr.write(line + '\n');
  const typedFile = file ?? DEFAULT_INVENTORY_FILE;
  const target = resolve(typedFile);
  const interactive = !flags.yes;

  // Checked before anything else, so a script without a terminal fails at once instead of
  // waiting for an answer nobody can give.
  if (interactive && !(process.stdin.isTTY && process.stdout.isTTY)) {
    throw new InputError(
      'kubeforge init',
      'needs a terminal to ask its questions, and none is attached',
      'to build the inventory from flags alone, pass --yes with --host ADDRESS (once per host), --containerd-bundle FILE, --kubernetes-version X.Y.Z and --key FILE',
    );
  }
  const preset = presetFromFlags(flags);
  if (!interactive) requireForYes(preset);

  const controller = new AbortController();
  let interrupts = 0;
  const onSigint = () => {
    if (++interrupts > 1) process.exit(130);
    controller.abort(new InterruptedError());
  };
  process.on('SIGINT', onSigint);
  const prompts: Prompts = interactive ? terminalPrompts() : defaultAnswers();
  try {
    const overwrite = await mayWrite(target, typedFile, prompts, flags.force === true);
    if (overwrite === 'no') {
      out(`left ${typedFile} as it is; nothing written`);
      return 0;
    }
    const env = process.env;
    const home = env.HOME || homedir();
    const answers = await runWizard({
      prompts,
      preset,
      paths: { cwd: process.cwd(), inventoryDir: dirname(target), home },
      env,
      foundKeys: await findPrivateKeys(join(home, '.ssh')),
      ...(flags.probe === false ? {} : { probe: probeHost }),
      say: out,
      signal: controller.signal,
    });
    const text = renderInventory(answers, { schemaRef: schemaReference(join(packageRoot(), SCHEMA_FILE), dirname(target)) });
    await writeInventoryFile(target, text, {
      overwrite: overwrite === 'replace',
      validate: (temp) => validateWritten(temp, target, answers, err),
      signal: controller.signal,
    });
    for (const line of nextSteps(typedFile, answers, env)) out(line);
    return 0;
  } catch (e) {
    if (e instanceof InterruptedError || controller.signal.aborted || (e instanceof Error && e.name === 'ExitPromptError')) {
      err(`\ninterrupted: nothing was written to ${typedFile}`);
      return 130;
    }
    throw e;
  } finally {
    process.off('SIGINT', onSigint);
  }
}

/** 'new' when there is no file yet, 'replace' when the user allows replacing it, 'no' otherwise. */
async function mayWrite(target: string, typedFile: string, prompts: Prompts, force: boolean): Promise<'new' | 'replace' | 'no'> {
  if (!existsSync(target)) return 'new';
  if (force) return 'replace';
  if (!prompts.interactive) throw new InputError(typedFile, 'exists', 'pass --force to replace it, or name another file');
  const replace = await prompts.confirm({ message: `${typedFile} exists. Replace it when the new inventory is ready?`, default: false, flag: '--force' });
  return replace ? 'replace' : 'no';
}

/**
 * The inventory must load exactly as `kubeforge up` loads it. Secrets are not needed for that,
 * so variables the inventory names but the environment lacks get a stand-in value here.
 */
async function validateWritten(temp: string, target: string, answers: InitAnswers, warn: (line: string) => void): Promise<void> {
  const env = { ...process.env };
  for (const name of secretVariables(answers)) env[name] ||= 'unset-while-kubeforge-init-checks';
  const named = (text: string) => text.split(temp).join(target);
  try {
    const { warnings } = await loadInventory(temp, { env });
    for (const w of warnings) warn(`warning: ${named(w)}`);
  } catch (e) {
    if (!(e instanceof InputErrors)) throw e;
    throw new InputErrors(e.errors.map((x) => new InputError(named(x.where), x.detail, x.hint)));
  }
}

function nextSteps(typedFile: string, answers: InitAnswers, env: NodeJS.ProcessEnv): string[] {
  const roles = answers.hosts.map((h) => h.role);
  const cps = roles.filter((r) => r === 'control-plane').length;
  const workers = roles.length - cps;
  const shown = isAbsolute(typedFile) || typedFile.startsWith('..') ? typedFile : relative(process.cwd(), resolve(typedFile)) || typedFile;
  const lines = [
    '',
    `wrote ${shown}: cluster ${answers.clusterName}, Kubernetes ${answers.kubernetes.version}, ` +
      `${roles.length} host${roles.length === 1 ? '' : 's'} (${cps} control plane${cps === 1 ? '' : 's'}, ${workers} worker${workers === 1 ? '' : 's'})`,
  ];
  for (const host of answers.hosts.filter((h) => h.kept.length > 0)) {
    lines.push(`note: ${host.name} was kept despite: ${host.kept.join('; ')}`);
  }
  lines.push('next:');
  for (const name of secretVariables(answers).filter((n) => !env[n])) lines.push(`  export ${name}=…`);
  lines.push(`  kubeforge up -i ${shellQuote(shown)}`);
  return lines;
}

