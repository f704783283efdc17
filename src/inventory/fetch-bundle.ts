// A bundle given as {url, sha256}: downloaded once into the cache, named by its hash, verified
// before it is used. The download goes to a temporary name and is renamed only once the hash
// matches, so the cache never holds a partial or wrong file under a hash name.
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { pipeline } from 'node:stream/promises';
import type { DigestCache } from './digest-cache.js';
import { hashFile } from './hash-file.js';
import { clip, MAX_PATH_CHARS, showPath } from './problem.js';

export interface FetchBundleOptions {
  url: string;
  sha256: string;
  /** Directory the file is kept in, as <cacheDir>/<sha256>. */
  cacheDir: string;
  /** Remembers the cached copy's hash between runs. */
  digests?: DigestCache;
  /** A bearer token (from the environment variable the inventory's tokenEnv names). */
  token?: string;
  fetch?: typeof fetch;
}

export interface FetchedBundle {
  path: string;
  sha256: string;
  size: number;
  /** True when a cached copy with the right hash was used and nothing was downloaded. */
  fromCache: boolean;
}

/** The download failed or did not match its hash; the message says which. */
export class BundleFetchError extends Error {
  override name = 'BundleFetchError';
}

export async function fetchBundle(options: FetchBundleOptions): Promise<FetchedBundle> {
  const sha256 = options.sha256.toLowerCase();
  const target = join(options.cacheDir, sha256);
  const cached = await (options.digests ? options.digests.hash(target) : hashFile(target)).catch(() => undefined);
  if (cached?.sha256 === sha256) return { path: target, sha256, size: cached.size, fromCache: true };

  await mkdir(options.cacheDir, { recursive: true });
  const response = await download(options.url, options.token, options.fetch ?? fetch).catch((err: unknown) => {
    if (err instanceof BundleFetchError) throw err;
    const cause = (err as { cause?: { message?: string } }).cause?.message ?? (err as Error).message;
    throw new BundleFetchError(`cannot download ${showPath(options.url)}: ${clip(String(cause), MAX_PATH_CHARS)}`);
  });
  if (!response.ok || !response.body) {
    const refused = options.token !== undefined && (response.status === 401 || response.status === 403) ? ' (with the token given: check that it is valid and may read this file)' : '';
    throw new BundleFetchError(`cannot download ${showPath(options.url)}: the server answered ${response.status} ${clip(response.statusText)}`.trim() + refused);
  }

  const temp = join(options.cacheDir, `.${sha256}.${process.pid}.${randomBytes(4).toString('hex')}.partial`);
  const hash = createHash('sha256');
  let size = 0;
  const measure = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      size += chunk.length;
      done(null, chunk);
    },
  });
  try {
    const body = Readable.fromWeb(response.body as unknown as WebReadableStream<Uint8Array>);
    await pipeline(body, measure, createWriteStream(temp, { mode: 0o644 })).catch((err: unknown) => {
      throw new BundleFetchError(`download of ${showPath(options.url)} broke off: ${clip((err as Error).message, MAX_PATH_CHARS)}`);
    });
    const actual = hash.digest('hex');
    if (actual !== sha256) {
      throw new BundleFetchError(`${showPath(options.url)} has SHA-256 ${actual}, but the inventory expects ${sha256}`);
    }
    await rename(temp, target);
  } finally {
    await rm(temp, { force: true });
  }
  return { path: target, sha256, size, fromCache: false };
}

const MAX_REDIRECTS = 10;

/**
 * GET the URL. With a token, redirects are followed here rather than by fetch, so that the
 * token goes to the URL's own origin only: a release server that redirects to a storage host
 * (with its own signed URL) must not hand that host the token.
 */
async function download(url: string, token: string | undefined, fetchFn: typeof fetch): Promise<Response> {
  if (token === undefined) return fetchFn(url);
  const origin = new URL(url).origin;
  let current = url;
  for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
    const headers: Record<string, string> = new URL(current).origin === origin ? { authorization: `Bearer ${token}` } : {};
    const response = await fetchFn(current, { redirect: 'manual', headers });
    const location = response.headers.get('location');
    if (response.status < 300 || response.status >= 400 || location === null) return response;
    await response.body?.cancel();
    current = new URL(location, current).href;
  }
  throw new BundleFetchError(`cannot download ${showPath(url)}: more than ${MAX_REDIRECTS} redirects`);
}
