// Applied to the whole program once its commands are defined: examples after every command's
// --help, commander's errors with a hint like kubeforge's own, and those errors thrown (exit
// code 2, bad input) instead of commander exiting the process itself.
import type { Command } from 'commander';
import { examplesHelp } from './examples.js';
import { flagErrorText, type CommandContext } from './flag-errors.js';

/** The words that call the command: "up", "certs renew"; "" for the program itself. */
export function commandPath(command: Command): string {
  const names: string[] = [];
  for (let c: Command | null = command; c?.parent; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

/** The program and every command under it, depth first. */
function allCommands(command: Command): Command[] {
  return [command, ...command.commands.flatMap(allCommands)];
}

function contextOf(command: Command, program: Command): CommandContext {
  const path = commandPath(command);
  const usage = path ? `${program.name()} ${path}` : program.name();
  return {
    usage,
    options: command.options.filter((o) => !o.hidden && o.long).map((o) => o.long!),
    commands: command.commands.filter((c) => !c.name().startsWith('__')).map((c) => c.name()),
  };
}

export function configureHelp(program: Command): void {
  for (const command of allCommands(program)) {
    const examples = examplesHelp(commandPath(command));
    if (examples) command.addHelpText('after', examples);
    command.showHelpAfterError(false).showSuggestionAfterError(true);
    command.configureOutput({ outputError: (message, write) => write(flagErrorText(message, contextOf(command, program))) });
    command.exitOverride();
  }
}

/** The exit code for an error commander threw after writing its message (or help) itself. */
export function commanderExitCode(err: unknown): number | undefined {
  const e = err as { code?: unknown; exitCode?: unknown } | null;
  if (typeof e?.code !== 'string' || !e.code.startsWith('commander.') || typeof e.exitCode !== 'number') return undefined;
  // --help, --version and help shown for a missing command keep commander's code (0, 0, 1).
  if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return e.exitCode;
  return 2;
}
