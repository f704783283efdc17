// What every test artifact is made of: Debian packages this machine's apt can download, unpacked
// and repacked deterministically (same inputs, same bytes, same sha256), and a docker-archive
// image with a static busybox layer. Shared by artifacts.ts and node-artifacts.ts.
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { pathExists, run, sh } from './exec.js';

const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');

/** The version apt would install, e.g. "1.6.20~ds1-1+b1". */
export async function debVersion(pkg: string): Promise<string> {
  const r = await run('apt-cache', ['policy', pkg]);
  const candidate = /Candidate:\s*(\S+)/.exec(r.stdout)?.[1];
  if (!candidate || candidate === '(none)') {
    throw new Error(`Debian package ${pkg} is not available to apt (run apt-get update first)`);
  }
  return candidate;
}

/** "1.6.20~ds1-1+b1" → "1.6.20" */
export function upstreamVersion(debianVersion: string): string {
  const m = /^(?:\d+:)?(\d+\.\d+\.\d+)/.exec(debianVersion);
  if (!m?.[1]) throw new Error(`cannot read an upstream version from ${debianVersion}`);
  return m[1];
}

/** Download and unpack a Debian package into dir/root, again only when apt's version changed. */
export async function unpackDeb(pkg: string, dir: string): Promise<void> {
  const version = await debVersion(pkg);
  const marker = path.join(dir, '.unpacked');
  if ((await fs.readFile(marker, 'utf8').catch(() => '')) === version) return;
  await fs.rm(dir, { recursive: true, force: true });
  await fs.mkdir(dir, { recursive: true });
  await run('apt-get', ['download', `${pkg}=${version}`], { cwd: dir });
  const deb = (await fs.readdir(dir)).find((f) => f.endsWith('.deb'));
  if (!deb) throw new Error(`apt-get download ${pkg} produced no .deb`);
  await run('dpkg-deb', ['-x', deb, 'root'], { cwd: dir });
  await fs.writeFile(marker, version);
}

/** Deterministic tar of `entries` under `dir` (gzip -n when asked), written under a temporary name. */
export async function tarInto(dir: string, out: string, entries: string[], gzip: boolean): Promise<void> {
  await sh(
    `d=$1; out=$2; shift 2; tar -C "$d" --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -cf - "$@" ${gzip ? '| gzip -n -9' : ''} > "$out.tmp" && mv "$out.tmp" "$out"`,
    [dir, out, ...entries],
  );
}

/** An artifact is current when it exists and was built from exactly these inputs (OUT.inputs). */
export async function upToDate(out: string, inputs: string): Promise<boolean> {
  return (await pathExists(out)) && (await fs.readFile(`${out}.inputs`, 'utf8').catch(() => '')) === inputs;
}

/**
 * A docker-archive (what `docker save` writes: manifest.json, a config blob, one layer with a
 * static busybox from Debian's busybox-static) whose one image carries every ref in `refs` as
 * a RepoTag. `ctr -n k8s.io images import` creates each ref. `work` is a scratch folder.
 */
export async function writeBusyboxArchive(work: string, out: string, refs: string[], note: string): Promise<void> {
  const unpacked = path.join(work, 'busybox');
  await unpackDeb('busybox-static', unpacked);
  const stage = path.join(work, `image-${sha256(out).slice(0, 8)}`);
  await fs.rm(stage, { recursive: true, force: true });
  await fs.mkdir(path.join(stage, 'rootfs/bin'), { recursive: true });
  await fs.copyFile(path.join(unpacked, 'root/bin/busybox'), path.join(stage, 'rootfs/bin/busybox'));
  await fs.chmod(path.join(stage, 'rootfs/bin/busybox'), 0o755);
  await fs.symlink('busybox', path.join(stage, 'rootfs/bin/sh'));
  const layerTar = path.join(stage, 'layer.tar');
  await sh('tar -C "$1" --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -cf "$2" bin', [path.join(stage, 'rootfs'), layerTar]);
  const layerSha = sha256(await fs.readFile(layerTar));
  const config = JSON.stringify({
    architecture: 'amd64',
    os: 'linux',
    config: { Cmd: ['/bin/sh'], Env: ['PATH=/bin'] },
    rootfs: { type: 'layers', diff_ids: [`sha256:${layerSha}`] },
    history: [{ created_by: note }],
  });
  const configSha = sha256(config);
  const archive = path.join(stage, 'archive');
  await fs.mkdir(path.join(archive, layerSha), { recursive: true });
  await fs.rename(layerTar, path.join(archive, layerSha, 'layer.tar'));
  await fs.writeFile(path.join(archive, `${configSha}.json`), config);
  await fs.writeFile(path.join(archive, 'manifest.json'), JSON.stringify([{ Config: `${configSha}.json`, RepoTags: refs, Layers: [`${layerSha}/layer.tar`] }]));
  await tarInto(archive, out, ['manifest.json', `${configSha}.json`, `${layerSha}/layer.tar`], false);
}
