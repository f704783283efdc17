import { describe, expect, it } from 'vitest';
import { MAX_NESTING, parseInventoryText, type ParseResult } from './parse.js';

function errorsOf(result: ParseResult) {
  if (result.ok) throw new Error('expected the text to be rejected');
  return result.errors.map(({ line, col, message }) => `${line}:${col}: ${message}`);
}

describe('parseInventoryText', () => {
  it('parses a mapping and keeps the document for positions', () => {
    const result = parseInventoryText('# comment\ncluster:\n  name: demo\n');
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.value).toEqual({ cluster: { name: 'demo' } });
    expect(result.lineCounter.linePos(result.doc.contents!.range![0])).toEqual({ line: 2, col: 1 });
    expect(result.warnings).toEqual([]);
  });

  it('accepts bytes, including a byte order mark', () => {
    const result = parseInventoryText(Buffer.from('\uFEFFa: 1\n'));
    expect(result.ok && result.value).toEqual({ a: 1 });
  });

  it('rejects empty files and files of only comments', () => {
    expect(errorsOf(parseInventoryText(''))).toEqual(['1:1: the inventory is empty']);
    expect(errorsOf(parseInventoryText('# nothing here\n\n'))).toEqual(['1:1: the inventory is empty']);
    expect(errorsOf(parseInventoryText('~\n'))).toEqual(['1:1: the inventory is empty']);
  });

  it('rejects a top level that is not a mapping', () => {
    expect(errorsOf(parseInventoryText('# c\nhello world\n'))).toEqual([
      '2:1: not an inventory: the top level is a single string value, not a mapping of keys',
    ]);
    expect(errorsOf(parseInventoryText('- a\n- b\n'))).toEqual(['1:1: not an inventory: the top level is a list, not a mapping of keys']);
  });

  it('rejects binary data at the first control character', () => {
    expect(errorsOf(parseInventoryText(Buffer.from('a: 1\nb: \x00\x01\n')))).toEqual([
      '2:4: not a YAML file: it contains the control character U+0000 (binary data?)',
    ]);
  });

  it('rejects bytes that are not UTF-8 where they stop being text', () => {
    expect(errorsOf(parseInventoryText(Buffer.from([0x61, 0x3a, 0x20, 0x0a, 0x62, 0xff, 0xfe])))).toEqual([
      '2:2: not a YAML file: it is not UTF-8 text (binary data?)',
    ]);
  });

  it('reports an unclosed quote or bracket where it was opened', () => {
    expect(errorsOf(parseInventoryText('a:\n  b: "x\nc: 1\n'))).toEqual(['2:6: YAML syntax: this " is never closed']);
    expect(errorsOf(parseInventoryText('a: [1, 2\nb: 3\n'))).toEqual(['1:4: YAML syntax: this [ is never closed']);
    expect(errorsOf(parseInventoryText('a: {x: 1\nb: 2\n'))).toEqual(['1:4: YAML syntax: this { is never closed']);
  });

  it('reports tabs, a second document and bad indentation with a hint', () => {
    const tab = parseInventoryText('a:\n\tb: 1\n');
    expect(errorsOf(tab)).toEqual(['2:1: YAML syntax: tabs are not allowed as indentation']);
    expect(!tab.ok && tab.errors[0]!.hint).toMatch(/indent with spaces/);
    expect(errorsOf(parseInventoryText('a: 1\n---\nb: 2\n'))).toEqual(['2:1: YAML syntax: a second YAML document starts here']);
    const indent = errorsOf(parseInventoryText('hosts:\n  - name: x\n     address: y\n'));
    expect(indent).toHaveLength(1);
    expect(indent[0]).toMatch(/^2:11: YAML syntax: cannot tell where this value ends/);
  });

  it('reports a duplicate key at the second one, naming the line of the first', () => {
    expect(errorsOf(parseInventoryText('hosts:\n  - name: a\n    role: worker\n    name: b\n'))).toEqual([
      '4:5: hosts[0]: duplicate key "name" (first on line 2)',
    ]);
  });

  it('rejects keys that are lists or mappings, and aliases without an anchor', () => {
    expect(errorsOf(parseInventoryText('? [a]\n: 1\n'))).toEqual(['1:3: inventory: a key must be a plain word, not a list or mapping']);
    expect(errorsOf(parseInventoryText('a: *nope\n'))).toEqual(['1:4: a: the alias *nope refers to no anchor']);
  });

  it('resolves aliases that do have an anchor', () => {
    const result = parseInventoryText('a: &x {p: 1}\nb: *x\n');
    expect(result.ok && result.value).toEqual({ a: { p: 1 }, b: { p: 1 } });
  });

  it('refuses aliases that expand exponentially', () => {
    const laughs = ['a: &a [x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 8; i++) laughs.push(`${'abcdefgh'[i]}: &${'abcdefgh'[i]} [${Array(9).fill(`*${'abcdefgh'[i - 1]}`).join(', ')}]`);
    const errors = errorsOf(parseInventoryText(laughs.join('\n') + '\n'));
    expect(errors).toHaveLength(1);
    // At the first alias, where the expansion starts: b's list on line 2.
    expect(errors[0]).toMatch(/^2:8: YAML syntax: .*alias/i);
  });

  it('refuses collections nested too deeply before composing them, at the one too deep', () => {
    const errors = errorsOf(parseInventoryText(`a:\n  ${'['.repeat(10_000)}${']'.repeat(10_000)}\n`));
    expect(errors).toEqual([`2:${3 + MAX_NESTING - 1}: YAML structure: lists and mappings are nested more than ${MAX_NESTING} levels deep here`]);
    // Unclosed, and in block style, too.
    expect(errorsOf(parseInventoryText('['.repeat(10_000)))[0]).toMatch(/^1:65: YAML structure: .*nested/);
    const block = Array.from({ length: 3000 }, (_, i) => `${' '.repeat(i)}- `).join('\n');
    expect(errorsOf(parseInventoryText(block))[0]).toMatch(/^65:65: YAML structure: .*nested/);
    // As deep as an inventory could want is fine.
    expect(parseInventoryText(`a: ${'['.repeat(MAX_NESTING - 1)}${']'.repeat(MAX_NESTING - 1)}\n`).ok).toBe(true);
  });

  it('reports each unclosed bracket of many once, quickly', () => {
    const started = Date.now();
    const errors = errorsOf(parseInventoryText(`a: ${'[x, '.repeat(MAX_NESTING - 2)}\n`));
    expect(errors[0]).toMatch(/^1:4: YAML syntax: this \[ is never closed/);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('quotes long keys and alias names shortened', () => {
    const key = 'k'.repeat(5000);
    const [duplicate] = errorsOf(parseInventoryText(`{"${key}": 1, "${key}": 2}`));
    expect(duplicate).toContain(`duplicate key "${'k'.repeat(80)}…" (5000 characters)`);
    expect(duplicate!.length).toBeLessThan(200);
    const [alias] = errorsOf(parseInventoryText(`a: *${'x'.repeat(5000)}\n`));
    expect(alias).toContain(`*${'x'.repeat(80)}… (5000 characters) refers to no anchor`);
  });

  it('passes YAML warnings on', () => {
    const result = parseInventoryText('a: !custom 1\n');
    expect(result.ok && result.warnings.map((w) => `${w.line}:${w.col}: ${w.message}`)).toEqual(['1:4: YAML syntax: unresolved tag: !custom']);
  });
});
