// Credentials in a bundle's download URL would land wherever the inventory goes (version
// control, a ticket, the terminal, error messages), so the inventory refuses them: a user name
// or password before the host, and query parameters that carry a token or a signature
// (token=, access_token=, X-Amz-Signature=, X-Goog-Credential=, sig=, ...). A private server's
// token is read from the environment variable `tokenEnv` names and sent as a bearer token.

// A query parameter whose name has one of these words (split at "-", "_", ".") carries a secret.
const SECRET_WORDS = new Set(['token', 'signature', 'sig', 'secret', 'password', 'passwd', 'pwd', 'credential', 'credentials', 'apikey', 'key', 'auth', 'sas']);

function secretParameter(name: string): boolean {
  return name
    .toLowerCase()
    .split(/[-_.]/)
    .some((word) => SECRET_WORDS.has(word));
}

function parse(text: string): URL | undefined {
  try {
    return new URL(text);
  } catch {
    return undefined;
  }
}

/** What credentials the URL carries, as phrases ("a user name or password", "a token (X-Amz-Signature=)"); empty when none. */
export function urlCredentials(text: string): string[] {
  const url = parse(text);
  if (!url) return [];
  const found: string[] = [];
  if (url.username !== '' || url.password !== '') found.push('a user name or password');
  const names = [...new Set([...url.searchParams.keys()].filter(secretParameter))];
  if (names.length > 0) found.push(`a token or signature in its query (${names.map((n) => `${n}=`).join(', ')})`);
  return found;
}

/** The URL as it may be shown: user name, password and secret query values replaced by "***". */
export function redactUrl(text: string): string {
  const url = parse(text);
  if (!url) return text.replace(/\/\/[^/@]*@/, '//***@');
  if (url.username !== '' || url.password !== '') {
    url.username = '***';
    url.password = '';
  }
  for (const name of [...url.searchParams.keys()]) if (secretParameter(name)) url.searchParams.set(name, '***');
  return url.href;
}

/** Why `text` cannot be a bundle's url (a phrase after the value), or undefined when it can. */
export function bundleUrlProblem(text: string): string | undefined {
  const url = parse(text);
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.hostname === '') return 'is not an http:// or https:// URL';
  const found = urlCredentials(text);
  if (found.length === 0) return undefined;
  return (
    `carries ${found.join(' and ')}; credentials do not belong in the inventory: put the token in an environment variable ` +
    'and name it with tokenEnv (sent as "Authorization: Bearer"), or download the file yourself and give its path'
  );
}
