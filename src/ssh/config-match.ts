// Which settings an OpenSSH client config gives one host, the way ssh(1) reads it: blocks in file
// order, a Host block applies when one of its patterns matches the name as given and no negated
// one does, and for each keyword the FIRST value obtained wins (ssh_config(5)). IdentityFile is
// the exception: every matching one is collected, in order. Pure: no file, no process is run.
import type { ConfigBlock, MatchCriterion, SshConfigFile } from './config-file.js';
import { globMatches } from './host-patterns.js';

export interface ConfigValue {
  args: string[];
  /** Line in the config file. */
  line: number;
}

export interface HostLookup {
  /** The name as the inventory writes it (an alias or an address): what Host patterns match. */
  host: string;
  /** The remote user when the inventory sets it explicitly (Match user sees it). */
  user?: string;
  /** The user running kubeforge (Match localuser; Match user when nothing sets one). */
  localUser: string;
}

export interface HostConfig {
  /** First value of each keyword (lower case) that applies to the host. */
  values: Map<string, ConfigValue>;
  /** Every IdentityFile that applies, in order. */
  identityFiles: ConfigValue[];
  /** Blocks that could not be decided (Match exec is never run), by line. */
  warnings: Array<{ line: number; message: string }>;
}

/** Criteria kubeforge decides; any other one (exec, canonical, final, tagged, …) skips its block. */
const DECIDED = new Set(['all', 'host', 'originalhost', 'user', 'localuser']);

export function lookupHost(config: SshConfigFile, lookup: HostLookup): HostConfig {
  const values = new Map<string, ConfigValue>();
  const identityFiles: ConfigValue[] = [];
  const warnings: HostConfig['warnings'] = [];
  // Match host sees the HostName obtained so far; Match user the user obtained so far.
  const currentHost = () => {
    const hostName = values.get('hostname')?.args[0];
    return hostName ? hostName.replaceAll('%h', lookup.host) : lookup.host;
  };
  const currentUser = () => lookup.user ?? values.get('user')?.args[0] ?? lookup.localUser;

  for (const block of config.blocks) {
    if (!applies(block, lookup, currentHost(), currentUser(), warnings)) continue;
    for (const directive of block.directives) {
      const value = { args: directive.args, line: directive.line };
      if (directive.keyword === 'identityfile') identityFiles.push(value);
      else if (!values.has(directive.keyword)) values.set(directive.keyword, value);
    }
  }
  return { values, identityFiles, warnings };
}

function applies(block: ConfigBlock, lookup: HostLookup, host: string, user: string, warnings: HostConfig['warnings']): boolean {
  switch (block.kind) {
    case 'global':
      return true;
    case 'host':
      return patternListMatches(block.patterns, lookup.host);
    case 'match': {
      const undecided = block.criteria.find((c) => !DECIDED.has(c.keyword));
      if (undecided) {
        warnings.push({
          line: block.line,
          message: `Match ${undecided.keyword} is not evaluated by kubeforge (it runs nothing from the ssh config); this block is skipped`,
        });
        return false;
      }
      return block.criteria.every((c) => criterionHolds(c, lookup, host, user));
    }
  }
}

function criterionHolds(criterion: MatchCriterion, lookup: HostLookup, host: string, user: string): boolean {
  const subject = { all: undefined, host, originalhost: lookup.host, user, localuser: lookup.localUser }[criterion.keyword as 'all'];
  const holds = criterion.keyword === 'all' ? true : patternListMatches((criterion.arg ?? '').split(','), subject ?? '');
  return criterion.negated ? !holds : holds;
}

/**
 * OpenSSH's match_pattern_list: true when some pattern matches and no negated (`!`) one does.
 * Host names compare case-insensitively.
 */
export function patternListMatches(patterns: string[], name: string): boolean {
  let matched = false;
  for (const raw of patterns) {
    if (raw === '') continue;
    const negated = raw.startsWith('!');
    const pattern = (negated ? raw.slice(1) : raw).toLowerCase();
    if (!globMatches(pattern, name.toLowerCase())) continue;
    if (negated) return false;
    matched = true;
  }
  return matched;
}
