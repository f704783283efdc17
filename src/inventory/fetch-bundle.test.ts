// Downloads are served by a local HTTP server on 127.0.0.1; nothing leaves this machine.
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { BundleFetchError, fetchBundle } from './fetch-bundle.js';

const CONTENT = Buffer.from('pretend this is containerd-1.7.20-linux-amd64.tar.gz\n'.repeat(2000));
const SHA = createHash('sha256').update(CONTENT).digest('hex');

let server: Server;
let base: string;
let requests: string[] = [];
let cacheDir: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    requests.push(req.url ?? '');
    if (req.url === '/bundle.tgz') {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      res.end(CONTENT);
    } else if (req.url === '/truncated.tgz') {
      res.writeHead(200, { 'content-length': String(CONTENT.length) });
      res.write(CONTENT.subarray(0, 100));
      res.destroy();
    } else {
      res.writeHead(404, 'Not Found');
      res.end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
beforeEach(() => {
  requests = [];
  cacheDir = mkdtempSync(join(tmpdir(), 'kubeforge-cache-'));
  return () => rmSync(cacheDir, { recursive: true, force: true });
});

describe('fetchBundle', () => {
  it('downloads into <cacheDir>/<sha256> and verifies the hash', async () => {
    const fetched = await fetchBundle({ url: `${base}/bundle.tgz`, sha256: SHA, cacheDir });
    expect(fetched).toEqual({ path: join(cacheDir, SHA), sha256: SHA, size: CONTENT.length, fromCache: false });
    expect(readFileSync(fetched.path).equals(CONTENT)).toBe(true);
    expect(readdirSync(cacheDir)).toEqual([SHA]);
  });

  it('creates the cache directory and accepts an uppercase checksum', async () => {
    const nested = join(cacheDir, 'a', 'b');
    const fetched = await fetchBundle({ url: `${base}/bundle.tgz`, sha256: SHA.toUpperCase(), cacheDir: nested });
    expect(fetched.path).toBe(join(nested, SHA));
  });

  it('reuses a cached file with the right hash without fetching', async () => {
    await fetchBundle({ url: `${base}/bundle.tgz`, sha256: SHA, cacheDir });
    const again = await fetchBundle({ url: `${base}/bundle.tgz`, sha256: SHA, cacheDir });
    expect(again.fromCache).toBe(true);
    expect(requests).toEqual(['/bundle.tgz']);
  });

  it('replaces a cached file whose content does not match its name', async () => {
    writeFileSync(join(cacheDir, SHA), 'corrupted');
    const fetched = await fetchBundle({ url: `${base}/bundle.tgz`, sha256: SHA, cacheDir });
    expect(fetched.fromCache).toBe(false);
    expect(readFileSync(fetched.path).equals(CONTENT)).toBe(true);
  });

  it('rejects a download with another hash and leaves nothing in the cache', async () => {
    const wrong = 'f'.repeat(64);
    const error = await fetchBundle({ url: `${base}/bundle.tgz`, sha256: wrong, cacheDir }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BundleFetchError);
    expect((error as Error).message).toBe(`${base}/bundle.tgz has SHA-256 ${SHA}, but the inventory expects ${wrong}`);
    expect(readdirSync(cacheDir)).toEqual([]);
  });

  it('reports HTTP errors', async () => {
    await expect(fetchBundle({ url: `${base}/missing.tgz`, sha256: SHA, cacheDir })).rejects.toThrow(
      `cannot download ${base}/missing.tgz: the server answered 404 Not Found`,
    );
  });

  it('reports a connection that breaks off, and cleans up the partial file', async () => {
    await expect(fetchBundle({ url: `${base}/truncated.tgz`, sha256: SHA, cacheDir })).rejects.toBeInstanceOf(BundleFetchError);
    expect(readdirSync(cacheDir)).toEqual([]);
  });

  it('reports a server that cannot be reached', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    await expect(fetchBundle({ url: `http://127.0.0.1:${port}/x.tgz`, sha256: SHA, cacheDir })).rejects.toThrow(/^cannot download .*ECONNREFUSED/);
  });

  it('uses the fetch function it is given', async () => {
    const seen: string[] = [];
    const fakeFetch: typeof fetch = async (input) => {
      seen.push(String(input));
      return new Response(CONTENT);
    };
    await fetchBundle({ url: 'https://bundles.invalid/c.tgz', sha256: SHA, cacheDir, fetch: fakeFetch });
    expect(seen).toEqual(['https://bundles.invalid/c.tgz']);
  });
});
