// What a plan shows of files is redacted before it is diffed: the run's known secrets (SSH and
// sudo passwords, key passphrases: the same Redactor every output of `up` goes through), and
// whatever is shaped like a secret in the host's current file — bootstrap tokens, the value of
// a key named like a password, token, credential or private key, and PEM private key blocks —
// since an operator may have put credentials in a file kubeforge is about to replace.
import type { Redactor } from '../../cluster/secrets.js';

export const REDACTED = '[redacted]';

/** A key (before `=` or `:`) whose value is a secret: password, token, auth, secret, … */
const SECRET_KEY = /(password|passwd|passphrase|secret|token|credential|certificate[-_]?key|private[-_]?key|key[-_]?data|api[-_]?key|^auth$|[._-]auth$)/i;
/** KEY = VALUE / key: value / "key" = "value" (TOML, YAML, INI, systemd, env files). */
const ASSIGNMENT = /^(\s*(?:export\s+|Environment=["']?)?["']?([A-Za-z0-9_.-]+)["']?\s*[=:]\s*)(\S.*)$/;
/** NAME=VALUE inside a line (systemd Environment=, shell exports, flags). */
const INLINE_ASSIGNMENT = /([A-Za-z0-9_.-]+)=("[^"]*"|'[^']*'|[^\s"']+)/g;
const PEM_BEGIN = /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/;
const PEM_END = /-----END [A-Z0-9 ]*PRIVATE KEY-----/;

export function redactFileText(text: string, redactor: Redactor): string {
  let inPem = false;
  const lines = redactor.redact(text).split('\n').map((line) => {
    if (inPem) {
      if (PEM_END.test(line)) inPem = false;
      return PEM_END.test(line) ? line : REDACTED;
    }
    if (PEM_BEGIN.test(line)) {
      inPem = !PEM_END.test(line);
      return line.replace(/(-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----).*?(-----END [A-Z0-9 ]*PRIVATE KEY-----|$)/, `$1${REDACTED}$2`);
    }
    const m = ASSIGNMENT.exec(line);
    if (m && SECRET_KEY.test(m[2]!)) return `${m[1]}${REDACTED}`;
    return line.replace(INLINE_ASSIGNMENT, (whole, name: string) => (SECRET_KEY.test(name) ? `${name}=${REDACTED}` : whole));
  });
  return lines.join('\n');
}
