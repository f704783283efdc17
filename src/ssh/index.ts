// The ssh module's public surface: connect to a host, run commands on it, put files on it.

export { connect, type ConnectOptions, type ConnectTarget, type UnknownHostKey } from './connect.js';
export { Connection, CHANNEL_LIMIT, type ExecOptions, type ExecResult } from './connection.js';
export { upload, writeFile, type UploadOptions, type WriteFileOptions } from './upload.js';
export { shellQuote, sh, type ShellValue } from './quote.js';
export {
  appendHostKey,
  checkHostKey,
  checkHostKeyIn,
  parseKnownHosts,
  type HostKeyStatus,
  type KnownHostsEntry,
} from './known-hosts.js';
export { knownHostsName } from './host-patterns.js';
export { fingerprintOf } from './host-key.js';
export {
  AbortError,
  AuthError,
  CommandError,
  CommandTimeoutError,
  ConnectError,
  HostKeyError,
  SudoError,
  UploadError,
} from './errors.js';
