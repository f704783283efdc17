// An OpenSSH client config file (ssh_config(5)) as kubeforge reads it: the `ssh-config` package
// parses the text; this turns its tree into blocks of directives that carry their line numbers,
// so every setting taken from the file can say where it was written.
import SSHConfig, { LineType, type Line } from 'ssh-config';

export interface ConfigDirective {
  /** Keyword in lower case (keywords are case-insensitive): "hostname", "identityfile", … */
  keyword: string;
  /** The arguments, unquoted. */
  args: string[];
  /** 1-based line in the file. */
  line: number;
}

/** One criterion of a Match line: `host a,b`, `!user root`, `all`. */
export interface MatchCriterion {
  negated: boolean;
  /** Lower case: all, host, originalhost, user, localuser, exec, canonical, final, … */
  keyword: string;
  /** The criterion's argument (comma list of patterns, or a command), absent for all/canonical/final. */
  arg?: string;
}

export type ConfigBlock =
  /** Directives before the first Host or Match: they apply to every host. */
  | { kind: 'global'; line: number; directives: ConfigDirective[] }
  | { kind: 'host'; line: number; patterns: string[]; directives: ConfigDirective[] }
  | { kind: 'match'; line: number; criteria: MatchCriterion[]; directives: ConfigDirective[] };

export interface SshConfigFile {
  /** Absolute path, as messages name it. */
  file: string;
  blocks: ConfigBlock[];
}

/** Match criteria that take no argument. */
const BARE_CRITERIA = new Set(['all', 'canonical', 'final']);

function values(line: Line & { value?: unknown }): string[] {
  const value = line.value;
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.map((v: { val: string }) => v.val);
  return [];
}

function newlines(text: string): number {
  let n = 0;
  for (const c of text) if (c === '\n') n++;
  return n;
}

function matchCriteria(tokens: string[]): MatchCriterion[] {
  const criteria: MatchCriterion[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const raw = tokens[i]!;
    const negated = raw.startsWith('!');
    const keyword = (negated ? raw.slice(1) : raw).toLowerCase();
    if (BARE_CRITERIA.has(keyword)) criteria.push({ negated, keyword });
    else criteria.push({ negated, keyword, ...(tokens[i + 1] !== undefined ? { arg: tokens[++i]! } : {}) });
  }
  return criteria;
}

/** Parse the text of a config file; never throws (ssh-config reads anything, as ssh reads it). */
export function parseSshConfig(text: string, file: string): SshConfigFile {
  const parsed = SSHConfig.parse(text);
  const blocks: ConfigBlock[] = [{ kind: 'global', line: 1, directives: [] }];
  let seenLines = 0;
  const visit = (line: Line) => {
    seenLines += newlines(line.before);
    const lineNo = seenLines + 1;
    if (line.type === LineType.DIRECTIVE) {
      const keyword = line.param.toLowerCase();
      const args = values(line);
      if ('config' in line) {
        blocks.push(
          keyword === 'match'
            ? { kind: 'match', line: lineNo, criteria: matchCriteria(args), directives: [] }
            : { kind: 'host', line: lineNo, patterns: args.flatMap((a) => a.split(',')).filter(Boolean), directives: [] },
        );
      } else {
        blocks.at(-1)!.directives.push({ keyword, args, line: lineNo });
      }
    }
    seenLines += newlines(line.after);
    if ('config' in line) line.config.forEach(visit);
  };
  parsed.forEach(visit);
  return { file, blocks };
}
