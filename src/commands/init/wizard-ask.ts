// The one way every phase of the wizard asks: an answer already given as a flag skips its
// question but is checked exactly like a typed one.
import { InputError } from '../../errors.js';
import type { InputQuestion, Prompts } from './prompts.js';

type Problem = (value: string) => string | undefined | Promise<string | undefined>;

/** inquirer's validate form from a "what is wrong" function. */
export function validateWith(problem: Problem) {
  return async (value: string): Promise<true | string> => (await problem(value)) ?? true;
}

/** The preset answer (checked), or the question. */
export async function ask(prompts: Prompts, question: InputQuestion, preset: string | undefined): Promise<string> {
  if (preset === undefined) return (await prompts.input(question)).trim();
  const verdict = question.validate ? await question.validate(preset) : true;
  if (verdict !== true) throw new InputError(question.flag ?? question.message, verdict);
  return preset.trim();
}
