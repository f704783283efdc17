import { describe, expect, it } from 'vitest';
import { program } from '../../cli.js';
import { programSpec, valueKind } from './spec.js';

describe('valueKind', () => {
  it('reads what a value completes to from its placeholder', () => {
    expect(valueKind('file')).toEqual({ kind: 'file' });
    expect(valueKind('path|url')).toEqual({ kind: 'file' });
    expect(valueKind('dir')).toEqual({ kind: 'dir' });
    expect(valueKind('hosts')).toEqual({ kind: 'hosts' });
    expect(valueKind('on|off')).toEqual({ kind: 'words', words: ['on', 'off'] });
    expect(valueKind('shell', ['bash', 'zsh'])).toEqual({ kind: 'words', words: ['bash', 'zsh'] });
    expect(valueKind('duration')).toEqual({ kind: 'text' });
  });
});

describe("programSpec of kubeforge's own program", () => {
  const spec = programSpec(program);

  it('lists the commands, not the internal __complete', () => {
    const names = spec.commands.map((c) => c.name);
    expect(names).toEqual(expect.arrayContaining(['up', 'init', 'status', 'kubeconfig', 'completion']));
    expect(names.some((n) => n.startsWith('__'))).toBe(false);
  });

  it("knows up's options and what their values are", () => {
    const up = spec.commands.find((c) => c.name === 'up')!;
    const option = (name: string) => up.options.find((o) => o.names.includes(name));
    expect(option('-i')!.names).toEqual(['-i', '--inventory']);
    expect(option('--inventory')!.value).toEqual({ kind: 'file' });
    expect(option('--limit')!.value).toEqual({ kind: 'hosts' });
    expect(option('--relay')!.value).toEqual({ kind: 'words', words: ['on', 'off'] });
    expect(option('--playbooks')!.value).toEqual({ kind: 'dir' });
    expect(option('--json')!.value).toBeUndefined();
    expect(option('--no-progress')).toBeDefined();
    expect(option('--help')).toBeDefined();
  });

  it("completes completion's argument to the shells", () => {
    expect(spec.commands.find((c) => c.name === 'completion')!.args).toEqual([{ kind: 'words', words: ['bash', 'zsh', 'fish'] }]);
    expect(spec.commands.find((c) => c.name === 'init')!.args).toEqual([{ kind: 'file' }]);
  });
});
