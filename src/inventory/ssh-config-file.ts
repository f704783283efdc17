// Which OpenSSH client config a run reads, read once: `ssh.configFile` when the inventory names
// one (a missing named file is an input error), `none` for none, else ~/.ssh/config if it exists.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseSshConfig, type SshConfigFile } from '../ssh/config-file.js';
import type { EffectiveSshResult } from './effective-ssh.js';
import { clip, MAX_PATH_CHARS, showPath, type Path, type Problem } from './problem.js';

export interface LoadedSshConfig {
  file: SshConfigFile;
  /** Turn the config problems found for one host (or bastion) into inventory problems at `path`. */
  report(result: EffectiveSshResult, path: Path, errors: Problem[], warnings: Problem[]): void;
}

/** The config file is user input too: a huge one is refused rather than read into memory. */
const MAX_CONFIG_BYTES = 1024 * 1024;

export async function readSshConfig(
  configFile: string | undefined,
  userPath: (p: string) => string,
  home: string,
  errors: Problem[],
  warnings: Problem[],
): Promise<LoadedSshConfig | undefined> {
  if (configFile === 'none') return undefined;
  const named = configFile !== undefined;
  const file = named ? userPath(configFile) : join(home, '.ssh', 'config');
  let text: string;
  try {
    const bytes = await readFile(file);
    if (bytes.length > MAX_CONFIG_BYTES) throw Object.assign(new Error(`larger than ${MAX_CONFIG_BYTES} bytes`), { code: 'EFBIG' });
    text = bytes.toString('utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    // Without ~/.ssh/config ssh reads none; so does kubeforge.
    if (!named && code === 'ENOENT') return undefined;
    errors.push({
      path: named ? ['ssh', 'configFile'] : ['ssh'],
      message: `${named ? 'ssh.configFile: ' : ''}cannot read the ssh config ${showPath(file)}: ${code === 'ENOENT' ? 'no such file' : clip((err as Error).message, MAX_PATH_CHARS)}`,
      hint: named ? 'give the path of an OpenSSH client config (relative to the inventory, ~ for home), or none to read no ssh config' : 'fix the file, or set ssh.configFile: none to read no ssh config',
    });
    return undefined;
  }
  const parsed = parseSshConfig(text, file);
  // Not followed: say so, rather than let hosts described there go unnoticed.
  for (const block of parsed.blocks) {
    for (const directive of block.directives.filter((d) => d.keyword === 'include')) {
      warnings.push({
        path: named ? ['ssh', 'configFile'] : ['ssh'],
        message: `ssh config ${showPath(file)}:${directive.line}: Include ${directive.args.join(' ')} is not followed by kubeforge; settings in that file are not read`,
      });
    }
  }
  const reported = new Set<string>();
  return {
    file: parsed,
    report(result, path, errs, warns) {
      for (const problem of result.errors) {
        errs.push({ path, message: `ssh config ${showPath(file)}:${problem.line}: ${problem.message}`, hint: 'fix that line of the ssh config, or set the value in the inventory, which wins over the ssh config' });
      }
      for (const problem of result.warnings) {
        // The same skipped Match block applies to every host: say it once.
        const key = `${problem.line}:${problem.message}`;
        if (reported.has(key)) continue;
        reported.add(key);
        warns.push({ path, message: `ssh config ${showPath(file)}:${problem.line}: ${problem.message}` });
      }
    },
  };
}
