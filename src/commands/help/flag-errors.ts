// commander's own errors (unknown option or command, missing value, extra argument) in the
// shape of every other kubeforge error: "error: what\n  hint: what to do", the hint naming the
// closest option or command when there is one, else the --help to read. Pure text in, text out.
import { didYouMean } from '../../inventory/suggest.js';

export interface CommandContext {
  /** How the user calls it: "kubeforge up", or "kubeforge" for the program itself. */
  usage: string;
  /** The long option names the command takes, e.g. ["--inventory", "--limit"]. */
  options: string[];
  /** Subcommand names (for the program itself). */
  commands: string[];
}

/** commander's message, reshaped; ends with a newline as commander's does. */
export function flagErrorText(message: string, context: CommandContext): string {
  const lines = message.trimEnd().split('\n');
  const first = lines[0]!.startsWith('error: ') ? lines[0]! : `error: ${lines[0]!}`;
  const suggested = /^\(Did you mean (.+)\?\)$/.exec(lines.at(-1) ?? '')?.[1];
  return `${first}\n  hint: ${hintFor(first, suggested, context)}\n`;
}

function hintFor(first: string, suggested: string | undefined, context: CommandContext): string {
  const help = `\`${context.usage} --help\``;
  const option = /^error: unknown option '([^']+)'/.exec(first)?.[1];
  if (option !== undefined) {
    const closest = suggested ?? (option.startsWith('--') ? didYouMean(option.replace(/=.*$/, ''), context.options) : undefined);
    return closest ? `did you mean ${closest}? (${help} lists every option)` : `${help} lists every option`;
  }
  const command = /^error: unknown command '([^']+)'/.exec(first)?.[1];
  if (command !== undefined) {
    const closest = suggested ?? didYouMean(command, context.commands);
    const all = context.commands.length > 0 ? `commands: ${context.commands.join(', ')}` : `see ${help}`;
    return closest ? `did you mean ${closest}? (${all})` : all;
  }
  if (/argument missing$/.test(first)) return `give the option a value; ${help} says what it takes`;
  if (/^error: too many arguments/.test(first)) return `put a value with spaces in quotes; ${help} shows what the command takes`;
  if (/^error: missing required argument/.test(first)) return `${help} shows what the command takes`;
  return `see ${help}`;
}
