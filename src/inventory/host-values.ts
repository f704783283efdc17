// Free-form inventory values that end up on the hosts: paths (in commands, TOML, YAML and
// kubelet flags) and registry mirror URLs (in hosts.toml). They are always quoted or encoded on
// the way, but what may be written is narrowed here as well, so a hostile or mistyped value is
// refused with a message before any host is contacted instead of relying on every consumer.

/** An absolute path of characters that mean nothing to a shell, TOML, YAML or systemd. */
export const HOST_PATH = /^\/[A-Za-z0-9._+@/-]+$/;
export const SAFE_PATH_RULE = 'use only letters, digits and "/", ".", "_", "-", "+", "@"';

/** RFC 3986 characters (unreserved, reserved and "%"); a space, double quote, backslash, backtick or newline is never one. */
const URL_CHARACTERS = /^[A-Za-z0-9\-._~:/?#[\]@!$&'()*+,;=%]+$/;

export const HTTP_URL_START = /^https?:\/\//;

/**
 * Why `text` cannot be a registry mirror endpoint (a phrase to put after the value), or undefined
 * when it can. A text that does not start with http:// or https:// is the caller's to report.
 */
export function mirrorUrlProblem(text: string): string | undefined {
  if (!HTTP_URL_START.test(text)) return undefined;
  if (!URL_CHARACTERS.test(text)) {
    return 'holds a character no URL may hold as written (a space, double quote, backslash, backtick, newline …); percent-encode it';
  }
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return 'is not a well-formed URL';
  }
  if (url.hostname === '') return 'names no host';
  // hosts.toml is a 0644 file and the URL shows up in logs: a password in it would leak.
  if (url.username !== '' || url.password !== '') {
    return 'carries a user name or password; credentials do not belong in the inventory (containerd takes them from the hosts.toml header or a credential helper)';
  }
  return undefined;
}
