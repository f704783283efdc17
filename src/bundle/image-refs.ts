// Which images an offline image archive holds, read on the laptop before anything is sent, so
// the run can check on every host that exactly those images are in containerd's k8s.io
// namespace. Understands the two archive formats `ctr images import` takes: docker-archive
// (manifest.json with RepoTags, as `docker save` writes) and OCI layout (index.json with the
// image name annotations), plain or gzip-compressed.
import { createReadStream } from 'node:fs';
import { createGunzip } from 'node:zlib';

const MAX_INDEX_BYTES = 4 * 1024 * 1024;
const REF = /^[A-Za-z0-9][A-Za-z0-9._\/:@-]*$/;

export async function readImageRefs(archivePath: string): Promise<string[]> {
  const entries = await readTarEntries(archivePath, new Set(['manifest.json', 'index.json']));
  const refs = new Set<string>();
  const manifest = entries.get('manifest.json');
  if (manifest) {
    for (const item of JSON.parse(manifest) as Array<{ RepoTags?: string[] | null }>) {
      for (const tag of item.RepoTags ?? []) refs.add(tag);
    }
  }
  const index = entries.get('index.json');
  if (index) {
    const parsed = JSON.parse(index) as { manifests?: Array<{ annotations?: Record<string, string> }> };
    for (const m of parsed.manifests ?? []) {
      const name = m.annotations?.['io.containerd.image.name'] ?? m.annotations?.['org.opencontainers.image.ref.name'];
      if (name && name.includes('/')) refs.add(name);
    }
  }
  if (!manifest && !index) throw new Error('not an image archive: it has neither manifest.json nor index.json');
  for (const ref of refs) {
    if (!REF.test(ref)) throw new Error(`image archive names an image with unexpected characters: ${JSON.stringify(ref)}`);
  }
  return [...refs].sort();
}

/** Streams the tar and keeps only the wanted top-level files; never holds the archive in memory. */
async function readTarEntries(archivePath: string, wanted: Set<string>, names?: string[]): Promise<Map<string, string>> {
  const gz = await isGzip(archivePath);
  const input = createReadStream(archivePath);
  const stream: AsyncIterable<Buffer> = gz ? input.pipe(createGunzip()) : input;
  const found = new Map<string, string>();
  let buffer: Buffer = Buffer.alloc(0);
  let skip = 0; // bytes of the current entry's body (plus padding) still to pass over
  let capture: { name: string; size: number; chunks: Buffer[]; left: number } | undefined;
  let longName: string | undefined;
  for await (const chunk of stream) {
    buffer = buffer.length ? Buffer.concat([buffer, chunk]) : chunk;
    for (;;) {
      if (capture) {
        const take = Math.min(capture.left, buffer.length);
        capture.chunks.push(buffer.subarray(0, take));
        capture.left -= take;
        buffer = buffer.subarray(take);
        if (capture.left > 0) break;
        const body = Buffer.concat(capture.chunks).toString('utf8');
        if (capture.name === '././@LongLink') longName = body.replace(/\0.*$/s, '');
        else found.set(capture.name, body);
        skip = padding(capture.size);
        capture = undefined;
      }
      if (skip > 0) {
        const take = Math.min(skip, buffer.length);
        skip -= take;
        buffer = buffer.subarray(take);
        if (skip > 0) break;
      }
      if (buffer.length < 512) break;
      const header = buffer.subarray(0, 512);
      buffer = buffer.subarray(512);
      if (header.every((b) => b === 0)) continue; // end-of-archive blocks
      const rawName = cstring(header.subarray(0, 100));
      const prefix = cstring(header.subarray(345, 500));
      const size = parseInt(cstring(header.subarray(124, 136)).trim() || '0', 8);
      const type = String.fromCharCode(header[156] ?? 48);
      let name = (longName ?? (prefix ? `${prefix}/${rawName}` : rawName)).replace(/^\.\//, '');
      longName = undefined;
      if (type === 'L') name = '././@LongLink';
      else if (names && (type === '0' || type === '\0')) names.push(name);
      const wantedHere = type === 'L' || ((type === '0' || type === '\0') && wanted.has(name));
      if (wantedHere) {
        if (size > MAX_INDEX_BYTES) throw new Error(`${name} in the image archive is too large (${size} bytes)`);
        capture = { name, size, chunks: [], left: size };
      } else {
        skip = size + padding(size);
      }
    }
    if (!names && wanted.size > 0 && [...wanted].every((w) => found.has(w))) break;
  }
  input.destroy();
  return found;
}

/** The regular files a tar (or tar.gz) holds, by path without a leading "./"; streamed, never held whole. */
export async function listTarFiles(archivePath: string): Promise<string[]> {
  const names: string[] = [];
  await readTarEntries(archivePath, new Set(), names);
  return names;
}

function padding(size: number): number {
  return (512 - (size % 512)) % 512;
}

function cstring(buf: Buffer): string {
  const end = buf.indexOf(0);
  return buf.subarray(0, end === -1 ? buf.length : end).toString('utf8');
}

async function isGzip(file: string): Promise<boolean> {
  const stream = createReadStream(file, { start: 0, end: 1 });
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    return chunk[0] === 0x1f && chunk[1] === 0x8b;
  }
  return false;
}
