// Loading playbooks/*.yaml: parsed with positions and validated with the same machinery as
// the inventory, so a typo in a playbook is reported as FILE:LINE:COL with a hint, before any
// host is contacted.
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { LineCounter, parseDocument } from 'yaml';
import { InputError, InputErrors } from '../errors.js';
import { problemsFromIssues } from '../inventory/issues.js';
import { locate, sourceAt } from '../inventory/positions.js';
import { templates } from '../render/index.js';
import { playbookSchema, type PlaybookFile } from './schema.js';

/** The playbooks a run applies, in order. */
export const PLAYBOOK_ORDER = ['prepare', 'containerd', 'kubernetes'] as const;

export async function loadPlaybooks(dir?: string): Promise<PlaybookFile[]> {
  const base = dir ?? (await findPlaybookDir());
  const errors: InputError[] = [];
  const loaded: PlaybookFile[] = [];
  for (const name of PLAYBOOK_ORDER) {
    const file = path.join(base, `${name}.yaml`);
    try {
      loaded.push(await loadPlaybookFile(file));
    } catch (err) {
      if (err instanceof InputErrors) errors.push(...err.errors);
      else if (err instanceof InputError) errors.push(err);
      else throw err;
    }
  }
  if (errors.length) throw new InputErrors(errors);
  return loaded;
}

async function findPlaybookDir(): Promise<string> {
  const here = path.dirname(fileURLToPath(import.meta.url));
  for (const up of ['../..', '../../..']) {
    const candidate = path.resolve(here, up, 'playbooks');
    try {
      await fs.access(path.join(candidate, 'prepare.yaml'));
      return candidate;
    } catch {
      // try the other layout
    }
  }
  throw new InputError('playbooks/', 'cannot find the playbooks shipped with kubeforge', 'reinstall kubeforge, or pass --playbooks DIR');
}

export async function loadPlaybookFile(file: string): Promise<PlaybookFile> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    throw new InputError(file, `cannot read the playbook: ${(err as Error).message}`);
  }
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length) {
    throw new InputErrors(
      doc.errors.map((e) => {
        const pos = lineCounter.linePos(e.pos[0]);
        return new InputError(`${file}:${pos.line}:${pos.col}`, e.message.split('\n')[0] ?? e.message);
      }),
    );
  }
  const input = doc.toJS({ maxAliasCount: 100 }) as unknown;
  const parsed = playbookSchema.safeParse(input);
  if (!parsed.success) {
    const problems = problemsFromIssues(parsed.error.issues, { root: playbookSchema, input, sourceAt: (p) => sourceAt(doc, p) });
    throw new InputErrors(
      problems.map((p) => {
        const pos = locate(doc, lineCounter, p.path, p.at);
        return new InputError(`${file}:${pos.line}:${pos.col}`, p.message, p.hint);
      }),
    );
  }
  const errors: InputError[] = [];
  parsed.data.steps.forEach((step, i) => {
    (step.files ?? []).forEach((f, j) => {
      if (!templates[f.template]) {
        const pos = locate(doc, lineCounter, ['steps', i, 'files', j, 'template']);
        errors.push(new InputError(`${file}:${pos.line}:${pos.col}`, `no template named "${f.template}"`, `templates: ${Object.keys(templates).join(', ')}`));
      }
    });
  });
  const ids = new Set<string>();
  parsed.data.steps.forEach((step, i) => {
    if (ids.has(step.id)) {
      const pos = locate(doc, lineCounter, ['steps', i, 'id']);
      errors.push(new InputError(`${file}:${pos.line}:${pos.col}`, `step id "${step.id}" is used twice`));
    }
    ids.add(step.id);
  });
  if (errors.length) throw new InputErrors(errors);
  return parsed.data;
}
