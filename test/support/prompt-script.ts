// TEST HELPER (used by *.test.ts only): the wizard's real inquirer prompts, each rendered with
// @inquirer/testing and answered by the next step of a script — typing, arrow keys, Enter —
// so tests see the same screens, defaults and validation messages a person would.
import { render } from '@inquirer/testing';
import { inquirerPrompts, type Prompts } from '../../src/commands/init/prompts.js';

export interface RenderedPrompt {
  /** The screen as it is now, without colours. */
  screen(): string;
  type(text: string): void;
  key(name: string): void;
}

export type Step = (prompt: RenderedPrompt) => Promise<void>;

export interface ScriptedPrompts extends Prompts {
  /** Every screen a prompt ended on, in order. */
  readonly transcript: string[];
  /** Steps not used yet. */
  remaining(): number;
}

export function scriptedPrompts(steps: Step[]): ScriptedPrompts {
  let next = 0;
  const transcript: string[] = [];
  const prompts = inquirerPrompts(async (prompt, config) => {
    const step = steps[next++];
    const message = (config as { message: string }).message;
    if (!step) throw new Error(`the script has no answer left for "${message}"`);
    const rendered = await render(prompt as Parameters<typeof render>[0], config as Parameters<typeof render>[1]);
    await step({
      screen: () => rendered.getScreen(),
      type: (text) => rendered.events.type(text),
      key: (name) => rendered.events.keypress(name),
    });
    const answer = (await rendered.answer) as Awaited<ReturnType<typeof prompt>>;
    transcript.push(rendered.getScreen());
    return answer;
  });
  return Object.assign(prompts, { transcript, remaining: () => steps.length - next });
}

/** Polls until the screen matches (prompts validate asynchronously). */
export async function screenShows(prompt: RenderedPrompt, pattern: RegExp | string, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const matches = () => (typeof pattern === 'string' ? prompt.screen().includes(pattern) : pattern.test(prompt.screen()));
  while (!matches()) {
    if (Date.now() > deadline) throw new Error(`the prompt never showed ${String(pattern)}; it shows:\n${prompt.screen()}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Expect the question, type the answer, press Enter. '' takes the default. */
export function answer(question: RegExp | string, text: string): Step {
  return async (p) => {
    await screenShows(p, question);
    if (text) p.type(text);
    p.key('enter');
  };
}

/**
 * Type a wrong answer first: Enter must show `error` and keep the question open; then erase it
 * and give the right one.
 */
export function answerAfterError(question: RegExp | string, wrong: string, error: RegExp | string, right: string): Step {
  return async (p) => {
    await screenShows(p, question);
    p.type(wrong);
    const shown = () => (typeof error === 'string' ? p.screen().includes(error) : error.test(p.screen()));
    if (shown()) throw new Error(`${String(error)} already matches before Enter, so it cannot tell the error apart:\n${p.screen()}`);
    p.key('enter');
    await screenShows(p, error);
    for (let i = 0; i < wrong.length; i++) p.key('backspace');
    p.type(right);
    p.key('enter');
  };
}

/** In a select prompt, move the cursor to the choice whose line contains `choice`, then Enter. */
export function choose(question: RegExp | string, choice: string): Step {
  return async (p) => {
    await screenShows(p, question);
    for (let moves = 0; ; moves++) {
      const current = p.screen().split('\n').find((line) => line.startsWith('❯'));
      if (current?.includes(choice)) break;
      if (moves > 40) throw new Error(`no choice "${choice}" in:\n${p.screen()}`);
      p.key('down');
    }
    p.key('enter');
  };
}

/** A yes/no question. */
export function confirmWith(question: RegExp | string, yes: boolean): Step {
  return async (p) => {
    await screenShows(p, question);
    p.type(yes ? 'y' : 'n');
    p.key('enter');
  };
}
