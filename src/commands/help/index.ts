// Applied to the whole program once its commands are defined: examples after every command's
// --help, commander's errors with a hint like kubeforge's own, and those errors thrown (exit
// code 2, bad input) instead of commander exiting the process itself.
import type { Command } from 'commander';
import { examplesHelp } from './examples.js';
import { flagErrorText, type CommandContext } from './flag-errors.js';

function contextOf(command: Command): CommandContext {
  const usage = command.parent ? `${command.parent.name()} ${command.name()}` : command.name();
  return {
    usage,
    options: command.options.filter((o) => !o.hidden && o.long).map((o) => o.long!),
    commands: command.commands.filter((c) => !c.name().startsWith('__')).map((c) => c.name()),
  };
}

export function configureHelp(program: Command): void {
  for (const command of [program, ...program.commands]) {
    const examples = examplesHelp(command.name());
    if (examples && command !== program) command.addHelpText('after', examples);
    command.showHelpAfterError(false).showSuggestionAfterError(true);
    command.configureOutput({ outputError: (message, write) => write(flagErrorText(message, contextOf(command))) });
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
