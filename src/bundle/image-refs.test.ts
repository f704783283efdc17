import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readImageRefs } from './image-refs.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kf-image-refs-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function archive(name: string, files: Record<string, string>, gzip = false): string {
  const src = fs.mkdtempSync(path.join(dir, 'src-'));
  for (const [file, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(src, file)), { recursive: true });
    fs.writeFileSync(path.join(src, file), content);
  }
  const out = path.join(dir, name);
  execFileSync('tar', [gzip ? '-czf' : '-cf', out, '-C', src, ...Object.keys(files)]);
  return out;
}

describe('readImageRefs', () => {
  it('reads RepoTags from a docker-archive, after a large layer', async () => {
    const big = 'x'.repeat(3 * 1024 * 1024 + 17);
    const file = archive('docker.tar', {
      'abc/layer.tar': big,
      'manifest.json': JSON.stringify([{ Config: 'c.json', RepoTags: ['registry.k8s.io/pause:3.10', 'example.com/a/b:1'], Layers: ['abc/layer.tar'] }]),
    });
    expect(await readImageRefs(file)).toEqual(['example.com/a/b:1', 'registry.k8s.io/pause:3.10']);
  });

  it('reads image names from an OCI layout, gzip-compressed', async () => {
    const file = archive(
      'oci.tar.gz',
      {
        'oci-layout': '{"imageLayoutVersion":"1.0.0"}',
        'index.json': JSON.stringify({ manifests: [{ annotations: { 'io.containerd.image.name': 'docker.io/library/busybox:1.36' } }] }),
      },
      true,
    );
    expect(await readImageRefs(file)).toEqual(['docker.io/library/busybox:1.36']);
  });

  it('rejects a tar that is not an image archive', async () => {
    const file = archive('plain.tar', { 'hello.txt': 'hi' });
    await expect(readImageRefs(file)).rejects.toThrow(/not an image archive/);
  });

  it('rejects image names that could break out of a shell word', async () => {
    const file = archive('evil.tar', { 'manifest.json': JSON.stringify([{ RepoTags: ['x/y:1;reboot'] }]) });
    await expect(readImageRefs(file)).rejects.toThrow(/unexpected characters/);
  });
});
