// Bundle downloads with a token from the environment (tokenEnv), and URLs that carry
// credentials refused. Served by local HTTP servers on 127.0.0.1; nothing leaves this machine.
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { InputErrors } from '../errors.js';
import { makeInventoryFixture, type InventoryFixture } from '../../test/inventories/fixtures.js';
import { fetchBundle } from './fetch-bundle.js';
import { loadInventory } from './index.js';

const CONTENT = Buffer.from('a bundle only a token holder may read\n');
const SHA = createHash('sha256').update(CONTENT).digest('hex');
const TOKEN = 'kf-test-token-5e1f0b';

/** One server that wants the token; another (a different origin: its own port) it redirects to. */
let origin: Server;
let storage: Server;
let originBase: string;
let storageBase: string;
let seen: Array<{ server: string; url: string; headers: IncomingHttpHeaders }> = [];

beforeAll(async () => {
  storage = createServer((req, res) => {
    seen.push({ server: 'storage', url: req.url ?? '', headers: req.headers });
    res.end(CONTENT);
  });
  origin = createServer((req, res) => {
    seen.push({ server: 'origin', url: req.url ?? '', headers: req.headers });
    if (req.headers.authorization !== `Bearer ${TOKEN}`) {
      res.writeHead(401, 'Unauthorized');
      res.end();
    } else if (req.url === '/hop.tgz') {
      res.writeHead(302, { location: '/containerd-1.7.20-linux-amd64.tar.gz' });
      res.end();
    } else if (req.url === '/elsewhere.tgz') {
      res.writeHead(302, { location: `${storageBase}/signed/containerd.tgz?X-Amz-Signature=abc` });
      res.end();
    } else {
      res.end(CONTENT);
    }
  });
  for (const server of [origin, storage]) await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  originBase = `http://127.0.0.1:${(origin.address() as AddressInfo).port}`;
  storageBase = `http://127.0.0.1:${(storage.address() as AddressInfo).port}`;
});
afterAll(async () => {
  for (const server of [origin, storage]) await new Promise<void>((resolve) => server.close(() => resolve()));
});

let cacheDir: string;
beforeEach(() => {
  seen = [];
  cacheDir = mkdtempSync(join(tmpdir(), 'kubeforge-token-cache-'));
  return () => rmSync(cacheDir, { recursive: true, force: true });
});

describe('fetchBundle with a token', () => {
  it('sends it as a bearer token, following a same-origin redirect with it', async () => {
    const fetched = await fetchBundle({ url: `${originBase}/hop.tgz`, sha256: SHA, cacheDir, token: TOKEN });
    expect(fetched.size).toBe(CONTENT.length);
    expect(seen.map((s) => [s.server, s.url, s.headers.authorization])).toEqual([
      ['origin', '/hop.tgz', `Bearer ${TOKEN}`],
      ['origin', '/containerd-1.7.20-linux-amd64.tar.gz', `Bearer ${TOKEN}`],
    ]);
  });

  it('never hands the token to another origin it is redirected to', async () => {
    await fetchBundle({ url: `${originBase}/elsewhere.tgz`, sha256: SHA, cacheDir, token: TOKEN });
    expect(seen.map((s) => s.server)).toEqual(['origin', 'storage']);
    expect(seen[1]!.headers.authorization).toBeUndefined();
  });

  it('says the token was refused on 401', async () => {
    await expect(fetchBundle({ url: `${originBase}/x.tgz`, sha256: SHA, cacheDir, token: 'wrong' })).rejects.toThrow(
      /answered 401 Unauthorized \(with the token given: check that it is valid/,
    );
  });
});

describe('inventory: bundle URLs and tokenEnv', () => {
  let fixture: InventoryFixture;
  beforeEach(() => {
    fixture = makeInventoryFixture();
  });
  afterEach(() => fixture.remove());

  const inventory = (bundle: string) => `cluster:
  name: demo
kubernetes:
  version: 1.30.2
containerd:
  bundle: ${bundle}
ssh:
  keyFile: keys/id_ed25519
hosts:
  - name: cp1
    address: 10.0.0.10
    role: control-plane
`;

  async function failure(text: string, env = fixture.env): Promise<string[]> {
    const path = join(fixture.dir, 'inventory.yaml');
    writeFileSync(path, text);
    const error = await loadInventory(path, { env, cacheDir }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(InputErrors);
    return (error as InputErrors).errors.map((e) => `${e.message}\n${e.hint ?? ''}`);
  }

  it('refuses a password in the URL at FILE:LINE:COL, without printing it, and names tokenEnv', async () => {
    const [message, ...rest] = await failure(inventory(`{ url: "https://deploy:s3cr3t-pw@files.example.com/containerd-1.7.20-linux-amd64.tar.gz", sha256: ${SHA} }`));
    expect(rest).toEqual([]);
    expect(message).toMatch(/inventory\.yaml:6:18: containerd\.bundle\.url: "https:\/\/\*\*\*@files\.example\.com\/containerd-1\.7\.20-linux-amd64\.tar\.gz" carries a user name or password/);
    expect(message).toContain('tokenEnv');
    expect(message).not.toContain('s3cr3t-pw');
    expect(seen).toEqual([]);
  });

  it('refuses a signature in the query, without printing it', async () => {
    const [message] = await failure(inventory(`{ url: "https://s3.example.com/b/containerd-1.7.20-linux-amd64.tar.gz?X-Amz-Signature=f00dfeed", sha256: ${SHA} }`));
    expect(message).toContain('a token or signature in its query (X-Amz-Signature=)');
    expect(message).not.toContain('f00dfeed');
  });

  it('wants the variable tokenEnv names to be set, and downloads nothing until it is', async () => {
    const [message] = await failure(inventory(`{ url: "${originBase}/containerd-1.7.20-linux-amd64.tar.gz", sha256: ${SHA}, tokenEnv: KF_BUNDLE_TOKEN }`));
    expect(message).toMatch(/inventory\.yaml:6:\d+: containerd\.bundle\.tokenEnv: environment variable KF_BUNDLE_TOKEN is not set/);
    expect(message).toContain('export KF_BUNDLE_TOKEN=');
    expect(seen).toEqual([]);
  });

  it('downloads with the token from the environment', async () => {
    const path = join(fixture.dir, 'inventory.yaml');
    writeFileSync(path, inventory(`{ url: "${originBase}/containerd-1.7.20-linux-amd64.tar.gz", sha256: ${SHA}, tokenEnv: KF_BUNDLE_TOKEN }`));
    const { cluster } = await loadInventory(path, { env: { ...fixture.env, KF_BUNDLE_TOKEN: TOKEN }, cacheDir });
    expect(cluster.containerd.bundle.sha256).toBe(SHA);
    expect(seen.map((s) => s.headers.authorization)).toEqual([`Bearer ${TOKEN}`]);
    expect(JSON.stringify(cluster)).not.toContain(TOKEN);
  });
});
