// What a completion script completes, read from commander's definition of the program, so the
// scripts list exactly the commands and options the CLI has. What an option's value completes
// to comes from its placeholder: <file>, <path|url> and [file] complete files, <dir> folders,
// <hosts> the inventory's host names, <on|off> those words; anything else is free text.
import type { Argument, Command, Option } from 'commander';

export type ValueKind = { kind: 'file' } | { kind: 'dir' } | { kind: 'hosts' } | { kind: 'words'; words: string[] } | { kind: 'text' };

export interface OptionSpec {
  /** Every spelling, short first: ['-i', '--inventory']. */
  names: string[];
  description: string;
  /** What follows the option; absent for a switch. */
  value?: ValueKind;
  /** The placeholder in the help ("file", "hosts"), which zsh shows while completing the value. */
  valueName?: string;
}

export interface CommandSpec {
  name: string;
  description: string;
  options: OptionSpec[];
  /** Positional arguments in order. */
  args: ValueKind[];
  /** Its own commands (`certs renew`); none for most. */
  subcommands: CommandSpec[];
}

export interface ProgramSpec {
  name: string;
  options: OptionSpec[];
  commands: CommandSpec[];
}

/** Commands whose names start with "__" are internal (the completion scripts call them). */
export function isInternal(command: Command): boolean {
  return command.name().startsWith('__');
}

const FILE_WORDS = new Set(['file', 'path', 'url']);

export function valueKind(placeholder: string, choices?: readonly string[]): ValueKind {
  if (choices && choices.length > 0) return { kind: 'words', words: [...choices] };
  const parts = placeholder.split('|');
  if (parts.some((p) => FILE_WORDS.has(p))) return { kind: 'file' };
  if (placeholder === 'dir') return { kind: 'dir' };
  if (placeholder === 'hosts') return { kind: 'hosts' };
  if (parts.length > 1 && parts.every((p) => /^[a-z][a-z-]*$/.test(p))) return { kind: 'words', words: parts };
  return { kind: 'text' };
}

function optionSpec(option: Option): OptionSpec {
  const placeholder = /[<[]([^>\]]+)[>\]]/.exec(option.flags)?.[1];
  return {
    names: [option.short, option.long].filter((n): n is string => n !== undefined),
    description: option.description,
    ...(placeholder !== undefined ? { value: valueKind(placeholder, option.argChoices), valueName: placeholder } : {}),
  };
}

function argumentKind(arg: Argument): ValueKind {
  return valueKind(arg.name(), arg.argChoices);
}

// commander adds these to every command without listing them in .options.
const HELP: OptionSpec = { names: ['-h', '--help'], description: 'display help for command' };

function commandSpec(command: Command): CommandSpec {
  return {
    name: command.name(),
    description: command.description(),
    options: [...command.options.filter((o) => !o.hidden).map(optionSpec), HELP],
    args: command.registeredArguments.map(argumentKind),
    subcommands: command.commands.filter((c) => !isInternal(c)).map(commandSpec),
  };
}

export function programSpec(program: Command): ProgramSpec {
  return {
    name: program.name(),
    options: [...program.options.filter((o) => !o.hidden).map(optionSpec), HELP],
    commands: program.commands.filter((c) => !isInternal(c)).map(commandSpec),
  };
}

/** Every option spelling that takes a value, for a shell that must skip values when it looks for the command. */
export function valueOptions(options: OptionSpec[], kind?: ValueKind['kind']): string[] {
  return options.filter((o) => o.value && (kind === undefined || o.value.kind === kind)).flatMap((o) => o.names);
}
