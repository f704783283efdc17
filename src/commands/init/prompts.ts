// The questions the wizard can ask, as one small interface with two implementations: the
// terminal (@inquirer/prompts) and `--yes` (every question takes its default, and a question
// without one is an error naming the flag that answers it). Tests render the same inquirer
// prompts with @inquirer/testing.
import { confirm, input, password, select } from '@inquirer/prompts';
import { InputError } from '../../errors.js';

type Validate = (value: string) => true | string | Promise<true | string>;

export interface Question {
  message: string;
  /** The command-line flag that answers this question, named when `--yes` has no answer for it. */
  flag?: string;
}

export interface InputQuestion extends Question {
  default?: string;
  validate?: Validate;
}

export interface Choice<T> {
  value: T;
  name: string;
  description?: string;
}

export interface SelectQuestion<T> extends Question {
  choices: Choice<T>[];
  default?: T;
}

export interface Prompts {
  /** false: nobody is there to answer (`--yes`); problems must fail instead of offering choices. */
  readonly interactive: boolean;
  input(q: InputQuestion): Promise<string>;
  /** Masked; for secrets that are used now and never written. */
  password(q: Question & { validate?: Validate }): Promise<string>;
  confirm(q: Question & { default: boolean }): Promise<boolean>;
  select<T>(q: SelectQuestion<T>): Promise<T>;
}

export interface PromptContext {
  input?: NodeJS.ReadableStream;
  output?: NodeJS.WritableStream;
}

/** Shows one inquirer prompt and resolves with its answer: on the terminal, or rendered in a test. */
export type PromptRunner = <Config, Value>(prompt: InquirerPrompt<Config, Value>, config: Config) => Promise<Value>;
type InquirerPrompt<Config, Value> = (config: Config, context?: PromptContext) => Promise<Value>;

/** The wizard's questions as inquirer prompts, shown by `run`. */
export function inquirerPrompts(run: PromptRunner): Prompts {
  return {
    interactive: true,
    input: (q) =>
      run(input, { message: q.message, ...(q.default !== undefined ? { default: q.default } : {}), ...(q.validate ? { validate: q.validate } : {}) }),
    password: (q) => run(password, { message: q.message, mask: true, ...(q.validate ? { validate: q.validate } : {}) }),
    confirm: (q) => run(confirm, { message: q.message, default: q.default }),
    select: <T>(q: SelectQuestion<T>) =>
      run(select<T>, { message: q.message, choices: q.choices, ...(q.default !== undefined ? { default: q.default } : {}), pageSize: 12 }),
  };
}

/** Questions on the terminal. Ctrl-C rejects the open question with inquirer's ExitPromptError. */
export function terminalPrompts(context: PromptContext = {}): Prompts {
  return inquirerPrompts((prompt, config) => prompt(config, context));
}

/** `--yes`: the default of every question, checked like a typed answer. */
export function defaultAnswers(): Prompts {
  const missing = (q: Question) =>
    new InputError(q.flag ?? 'kubeforge init', `no answer for "${q.message}"`, `pass ${q.flag ?? 'the answer as a flag'}, or run kubeforge init in a terminal to be asked`);
  return {
    interactive: false,
    async input(q) {
      if (q.default === undefined) throw missing(q);
      const verdict = q.validate ? await q.validate(q.default) : true;
      if (verdict !== true) throw new InputError(q.flag ?? 'kubeforge init', verdict);
      return q.default;
    },
    async password(q) {
      throw missing(q);
    },
    async confirm(q) {
      return q.default;
    },
    async select<T>(q: SelectQuestion<T>) {
      if (q.default !== undefined) return q.default;
      if (q.choices.length === 0) throw missing(q);
      return q.choices[0]!.value;
    },
  };
}
