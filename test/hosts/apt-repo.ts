// A local apt repository for the full test hosts, which reach no Debian mirror: the flat
// repository buildOsPackages() writes, served over HTTP from the test process on the fleet's
// bridge address. A host pointed at it stands for a user's host whose apt has a working mirror.
import { createReadStream } from 'node:fs';
import fs from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { Fleet } from './fleet.js';
import type { TestHost } from './host.js';
import { buildOsPackages } from './node-artifacts.js';

export interface ServedAptRepo {
  /** e.g. http://10.77.0.1:40123/ — use as `deb [trusted=yes] URL ./`. */
  url: string;
  /** Paths requested so far (tests may check that apt really came here). */
  requests: string[];
  close(): Promise<void>;
}

/**
 * Serve repoDir (default: buildOsPackages().repoDir) on the fleet's bridge gateway address,
 * on a free port. Only the hosts of that fleet (and this machine) can reach it.
 */
export async function serveAptRepo(fleet: Fleet, repoDir?: string): Promise<ServedAptRepo> {
  const dir = path.resolve(repoDir ?? (await buildOsPackages()).repoDir);
  const requests: string[] = [];
  const server = http.createServer((req, res) => {
    void (async () => {
      const urlPath = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
      requests.push(urlPath);
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { allow: 'GET, HEAD' }).end();
        return;
      }
      // Flat repository: every file sits at the top ("./InRelease" arrives as "/./InRelease").
      const file = path.join(dir, path.normalize(urlPath));
      const st = file.startsWith(dir + path.sep) ? await fs.stat(file).catch(() => undefined) : undefined;
      if (!st?.isFile()) {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
        return;
      }
      const since = req.headers['if-modified-since'];
      if (since && Date.parse(since) >= Math.floor(st.mtimeMs / 1000) * 1000) {
        res.writeHead(304).end();
        return;
      }
      res.writeHead(200, {
        'content-type': 'application/octet-stream',
        'content-length': st.size,
        'last-modified': st.mtime.toUTCString(),
      });
      if (req.method === 'HEAD') {
        res.end();
        return;
      }
      createReadStream(file).on('error', () => res.destroy()).pipe(res);
    })().catch(() => res.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, fleet.gateway, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${fleet.gateway}:${port}/`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/**
 * Make the repository at url the host's only apt source (`deb [trusted=yes] URL ./` in
 * /etc/apt/sources.list; sources.list.d emptied: the Debian mirror there is unreachable).
 */
export async function pointHostAptAt(host: TestHost, url: string): Promise<void> {
  if (host.kind !== 'full') throw new Error(`${host.name} is a light host: it has no apt of its own`);
  if (!/^http:\/\/[0-9.]+:\d+\/$/.test(url)) throw new Error(`not a served apt repository URL: ${url}`);
  await host.sh(
    `set -eu
     rm -f /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources
     printf 'deb [trusted=yes] %s ./\\n' '${url}' > /etc/apt/sources.list
     rm -rf /var/lib/apt/lists/*
     mkdir -p /var/lib/apt/lists/partial`,
  );
}
