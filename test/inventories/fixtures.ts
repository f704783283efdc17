import { execFileSync } from 'node:child_process';
// The files inventories under test name: small fake bundles and private keys with the modes a
// test needs, in a fresh temporary directory. Corpus files and the example inventory are copied
// next to them, so their relative paths (bundles/…, keys/…) resolve here.
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kubeadmImages } from '../../src/cluster/kubeadm-images.js';
import { parseVersion } from '../../src/model.js';

export interface InventoryFixture {
  /** Holds bundles/, keys/ and home/; inventories are written here. */
  dir: string;
  /** Stands in for $HOME: home/.ssh holds keys and an (empty) known_hosts file. */
  home: string;
  /** HOME and the secret variables the example names; SSH_AUTH_SOCK deliberately unset. */
  env: NodeJS.ProcessEnv;
  remove(): void;
}

const PRIVATE_KEY = '-----BEGIN OPENSSH PRIVATE KEY-----\nnot a real key\n-----END OPENSSH PRIVATE KEY-----\n';

function write(path: string, content: string, mode = 0o644): void {
  writeFileSync(path, content);
  chmodSync(path, mode); // explicit: the umask must not decide a key's mode
}

/** The reference the fixture's image archive holds. */
export const FIXTURE_IMAGE_REF = 'kubeforge.test/fixture:1';

/** The images bundles/kube-flannel.yml runs. */
export const FIXTURE_FLANNEL_IMAGES = ['docker.io/flannel/flannel-cni-plugin:v1.5.1-flannel2', 'docker.io/flannel/flannel:v0.25.6'];

/**
 * What bundles/offline-images.tar holds: every image an offline Kubernetes 1.30.2 cluster with
 * bundles/kube-flannel.yml runs (kubeadm's list, its pause image being the default sandbox).
 */
export const FIXTURE_OFFLINE_IMAGE_REFS = [...kubeadmImages(parseVersion('1.30.2')!), ...FIXTURE_FLANNEL_IMAGES];

/** kube-flannel.yml as upstream ships it, trimmed to what kubeforge reads. */
export const FIXTURE_FLANNEL_MANIFEST = `---
kind: ConfigMap
apiVersion: v1
metadata:
  name: kube-flannel-cfg
  namespace: kube-flannel
data:
  net-conf.json: |
    {
      "Network": "10.244.0.0/16",
      "Backend": {
        "Type": "vxlan"
      }
    }
---
apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: kube-flannel-ds
  namespace: kube-flannel
spec:
  selector:
    matchLabels:
      app: flannel
  template:
    metadata:
      labels:
        app: flannel
    spec:
      initContainers:
      - name: install-cni-plugin
        image: ${FIXTURE_FLANNEL_IMAGES[0]}
      - name: install-cni
        image: ${FIXTURE_FLANNEL_IMAGES[1]}
      containers:
      - name: kube-flannel
        image: ${FIXTURE_FLANNEL_IMAGES[1]}
`;

/** A minimal docker-archive (what `docker save` writes): a tar holding manifest.json. */
function writeImageArchive(path: string, scratch: string, refs: string[] = [FIXTURE_IMAGE_REF]): void {
  const src = join(scratch, 'image-src');
  mkdirSync(src, { recursive: true });
  writeFileSync(join(src, 'manifest.json'), JSON.stringify(refs.map((ref, i) => ({ Config: `c${i}.json`, RepoTags: [ref], Layers: [] }))));
  execFileSync('tar', ['--mtime=@0', '--owner=0', '--group=0', '-cf', path, '-C', src, 'manifest.json']);
  rmSync(src, { recursive: true, force: true });
}

export function makeInventoryFixture(): InventoryFixture {
  const dir = mkdtempSync(join(tmpdir(), 'kubeforge-inventory-'));
  const home = join(dir, 'home');
  for (const sub of ['bundles', 'keys', join('home', '.ssh')]) mkdirSync(join(dir, sub), { recursive: true });

  write(join(dir, 'bundles', 'containerd-1.7.20-linux-amd64.tar.gz'), 'fake containerd tarball\n');
  write(join(dir, 'bundles', 'kubernetes-1.30.2-linux-amd64.tar.gz'), 'fake kubernetes tarball\n');
  writeImageArchive(join(dir, 'bundles', 'images.tar'), dir);
  writeImageArchive(join(dir, 'bundles', 'offline-images.tar'), dir, FIXTURE_OFFLINE_IMAGE_REFS);
  write(join(dir, 'bundles', 'kube-flannel.yml'), FIXTURE_FLANNEL_MANIFEST);
  write(join(dir, 'bundles', 'crictl-v1.30.0-linux-amd64.tar.gz'), 'fake cri-tools tarball\n');
  write(join(dir, 'bundles', 'cni-plugins-linux-amd64-v1.5.1.tgz'), 'fake cni plugins tarball\n');
  write(join(dir, 'bundles', 'os-packages-debian12-amd64.tar'), 'fake os packages tarball\n');
  // Unreadable in a way that holds even for root, who can read a chmod 000 file.
  mkdirSync(join(dir, 'bundles', 'directory.tar.gz'));

  write(join(dir, 'keys', 'id_ed25519'), PRIVATE_KEY, 0o600);
  write(join(dir, 'keys', 'id_ed25519_open'), PRIVATE_KEY, 0o644);
  write(join(dir, 'keys', 'id_ed25519.pub'), 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFakeFakeFake test\n');
  write(join(home, '.ssh', 'id_ed25519'), PRIVATE_KEY, 0o600);
  write(join(home, '.ssh', 'worker1_ed25519'), PRIVATE_KEY, 0o600);
  write(join(home, '.ssh', 'known_hosts'), '');
  write(join(home, '.ssh', 'config'), '# no Host blocks: the inventories say everything\n');

  return {
    dir,
    home,
    env: {
      HOME: home,
      KUBEFORGE_KEY_PASSPHRASE: 'test passphrase',
      KUBEFORGE_SSH_PASSWORD: 'test password',
      KUBEFORGE_SUDO_PASSWORD: 'test sudo password',
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
