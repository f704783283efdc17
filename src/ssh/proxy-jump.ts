// ProxyJump as OpenSSH writes it: `none`, or a comma-separated chain of jump hosts, each
// `[user@]host[:port]` (IPv6 as `[addr]:port`) or `ssh://[user@]host[:port]`, the first one
// dialled from here and each next one through the previous.
import { isIP } from 'node:net';

export interface JumpSpec {
  user?: string;
  /** Host name or address as written (an ssh config alias works too). */
  host: string;
  port?: number;
}

const USER = /^[A-Za-z_][A-Za-z0-9_.-]*$/;
const HOST = /^[A-Za-z0-9_.%-]+$/;

/** The chain, [] for `none`, or an error message saying what is wrong with which hop. */
export function parseProxyJump(text: string): JumpSpec[] | { problem: string } {
  const trimmed = text.trim();
  if (trimmed.toLowerCase() === 'none') return [];
  if (trimmed === '') return { problem: 'is empty; write user@host:port (a chain as a,b) or none' };
  const chain: JumpSpec[] = [];
  for (const part of trimmed.split(',')) {
    const hop = parseHop(part.trim());
    if (typeof hop === 'string') return { problem: `hop "${part.trim()}" ${hop}` };
    chain.push(hop);
  }
  return chain;
}

function parseHop(text: string): JumpSpec | string {
  let rest = text.startsWith('ssh://') ? text.slice('ssh://'.length) : text;
  if (rest === '') return 'is empty';
  let user: string | undefined;
  const at = rest.lastIndexOf('@');
  if (at >= 0) {
    user = rest.slice(0, at);
    rest = rest.slice(at + 1);
    if (!USER.test(user)) return `has a user name that is not one: "${user}"`;
  }
  let host = rest;
  let portText: string | undefined;
  const bracketed = /^\[([^\]]+)\](?::(.*))?$/.exec(rest);
  if (bracketed) {
    host = bracketed[1]!;
    portText = bracketed[2];
    if (!isIP(host)) return `has "[${host}]", which is not an IP address`;
  } else {
    const colon = rest.indexOf(':');
    if (colon >= 0) {
      if (rest.indexOf(':', colon + 1) >= 0) return 'has an IPv6 address without brackets: write [address]:port';
      host = rest.slice(0, colon);
      portText = rest.slice(colon + 1);
    }
    if (!HOST.test(host)) return 'has no valid host name or address';
  }
  const spec: JumpSpec = { host, ...(user !== undefined ? { user } : {}) };
  if (portText !== undefined) {
    const port = Number(portText);
    if (!/^\d+$/.test(portText) || port < 1 || port > 65535) return `has port "${portText}", not a number from 1 to 65535`;
    spec.port = port;
  }
  return spec;
}

/** user@host:port, as messages name a hop. */
export function formatJump(hop: { user: string; host: string; port: number }): string {
  const host = isIP(hop.host) === 6 ? `[${hop.host}]` : hop.host;
  return `${hop.user}@${host}:${hop.port}`;
}
