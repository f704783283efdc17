// Tests of the kubeadm/kubelet STAND-INS (not the real tools): run the Python scripts against a
// throw-away root directory (KUBEADM_STANDIN_ROOT) holding a live unix socket as the CRI socket,
// and check what they accept, refuse, print, write and log.
import { describe, it, expect, afterEach } from 'vitest';
import { execFile, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync,
} from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { kubeadmImages } from '../../../src/cluster/kubeadm-images.js';
import { parseVersion } from '../../../src/model.js';
import { bakeVersion } from '../artifacts.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const KUBEADM = path.join(here, 'kubeadm');
const KUBELET = path.join(here, 'kubelet');
const KUBECTL = path.join(here, 'kubectl');
const CRICTL = path.join(here, 'crictl');
const EXEC_CHECKED = ['crictl', 'conntrack', 'ip', 'iptables', 'mount', 'nsenter', 'ebtables', 'ethtool', 'socat', 'tc', 'touch'];
/** Runners with one CPU would fail NumCPU on every init; real kubeadm would too. */
const CPU_IGNORE = os.availableParallelism() < 2 ? ['NumCPU'] : [];

/** Why the scripts cannot run here (their shebang's python3 or PyYAML missing), if they cannot. */
function interpreterProblem(): string | undefined {
  const interpreter = readFileSync(KUBEADM, 'utf8').split('\n', 1)[0]!.replace(/^#!/, '').trim();
  const probe = spawnSync(interpreter, ['-c', 'import yaml'], { encoding: 'utf8' });
  if (probe.error) return `${interpreter} is not available (${probe.error.message})`;
  if (probe.status !== 0) return `${interpreter} cannot import yaml; install python3-yaml (${probe.stderr.trim()})`;
  return undefined;
}

const missing = interpreterProblem();
if (missing && process.env.CI === 'true') {
  describe('kubeadm/kubelet/kubectl/crictl/kube-apiserver stand-ins', () => {
    it('can run: CI must provide python3 with PyYAML instead of skipping', () => {
      throw new Error(missing);
    });
  });
}

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

interface TestHost {
  root: string;
  port: number;
  kubeadm(...args: string[]): Promise<Result>;
  kubelet(...args: string[]): Promise<Result>;
  kubectl(...args: string[]): Promise<Result>;
  crictl(...args: string[]): Promise<Result>;
  setImages(images: string[]): void;
  write(file: string, content: string): void;
  read(file: string): string;
  has(file: string): boolean;
  mode(file: string): number;
  log(tool: 'kubeadm' | 'kubelet' | 'kubectl' | 'crictl' | 'kube-apiserver'): Array<Record<string, unknown>>;
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

function toolEnv(root: string): NodeJS.ProcessEnv {
  // The fake `ctr` (see makeHost) comes first on PATH; the stand-ins look the checked binaries up under the root.
  return { ...process.env, KUBEADM_STANDIN_ROOT: root, PATH: `${path.join(root, 'fakebin')}:${process.env.PATH ?? ''}` };
}

function runTool(tool: string, root: string, args: string[], timeout = 30_000): Promise<Result> {
  return new Promise((resolve) => {
    execFile(tool, args, { env: toolEnv(root), timeout },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : null) : 0;
        resolve({ code, stdout, stderr });
      });
  });
}

/** A root directory shaped like a test host: baked version, ip_forward=1, containerd's socket live. */
async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const FAKE_CTR = `#!/bin/sh
# fake ctr for the stand-ins' unit tests only: lists the images named in $KUBEADM_STANDIN_ROOT/fake-ctr-images
list="$KUBEADM_STANDIN_ROOT/fake-ctr-images"
case "$*" in
  *"images ls -q"*) cat "$list" 2>/dev/null || true ;;
  *"images ls"*) echo "REF TYPE DIGEST SIZE PLATFORMS LABELS"
    [ -f "$list" ] && while read -r ref; do [ -n "$ref" ] && echo "$ref application/vnd.oci.image.index.v1+json sha256:0123456789abcdef0123456789abcdef 10.0 MiB linux/amd64 -"; done < "$list"; true ;;
  *) echo "fake ctr: unsupported: $*" >&2; exit 1 ;;
esac
`;

interface HostOptions {
  missing?: string[];
  memKb?: number;
  cgroupV1?: boolean;
  kernelConfig?: boolean;
  images?: boolean;
}

async function makeHost(version = 'v1.30.2', options: HostOptions = {}): Promise<TestHost> {
  const root = mkdtempSync(path.join(os.tmpdir(), 'kf-standin-'));
  const port = await freePort();
  const abs = (file: string) => path.join(root, file);
  const write = (file: string, content: string) => {
    mkdirSync(path.dirname(abs(file)), { recursive: true });
    writeFileSync(abs(file), content);
  };
  write('usr/local/share/kubeforge-standin/kubernetes-version', `${version}\n`);
  write('proc/sys/net/ipv4/ip_forward', '1\n');
  write('proc/meminfo', `MemTotal:       ${options.memKb ?? 4_000_000} kB\n`);
  if (options.kernelConfig !== false) write(`boot/config-${os.release()}`, 'CONFIG_NAMESPACES=y\n');
  if (!options.cgroupV1) write('sys/fs/cgroup/cgroup.controllers', 'cpu memory pids\n');
  write('etc/hosts', '127.0.0.1 localhost kf-standin-cp-1 kf-standin-worker-1 kf-standin-cp-2\n');
  for (const bin of EXEC_CHECKED.filter((b) => !(options.missing ?? []).includes(b))) {
    write(`usr/bin/${bin}`, '#!/bin/sh\n');
    chmodSync(abs(`usr/bin/${bin}`), 0o755);
  }
  write('fakebin/ctr', FAKE_CTR);
  chmodSync(abs('fakebin/ctr'), 0o755);
  const setImages = (images: string[]) => write('fake-ctr-images', images.map((i) => `${i}\n`).join(''));
  if (options.images !== false) {
    const listed = spawnSync(KUBEADM, ['config', 'images', 'list'], { env: toolEnv(root), encoding: 'utf8' });
    setImages(listed.stdout.trim().split('\n'));
  }
  mkdirSync(abs('run/containerd'), { recursive: true });
  mkdirSync(abs('var'), { recursive: true });
  symlinkSync('../run', abs('var/run')); // as on Debian, where /var/run -> /run
  const server = net.createServer((conn) => conn.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(abs('run/containerd/containerd.sock'), resolve);
  });
  cleanups.push(async () => {
    const pidFile = abs('var/lib/kube-apiserver-standin/pid');
    if (existsSync(pidFile)) {
      try { process.kill(Number(readFileSync(pidFile, 'utf8').trim()), 'SIGKILL'); } catch { /* already gone */ }
    }
    await new Promise<void>((resolve) => server.close(() => resolve()));
    rmSync(root, { recursive: true, force: true });
  });
  return {
    root,
    port,
    kubeadm: (...args) => runTool(KUBEADM, root, args),
    kubelet: (...args) => runTool(KUBELET, root, args),
    kubectl: (...args) => runTool(KUBECTL, root, args),
    crictl: (...args) => runTool(CRICTL, root, args),
    setImages,
    write,
    read: (file) => readFileSync(abs(file), 'utf8'),
    has: (file) => existsSync(abs(file)),
    mode: (file) => statSync(abs(file)).mode & 0o777,
    log: (tool) => {
      const file = abs(`var/log/${tool}-standin.log`);
      if (!existsSync(file)) return [];
      return readFileSync(file, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    },
  };
}

function initConfig(port: number, extra = ''): string {
  return `apiVersion: kubeadm.k8s.io/v1beta3
kind: InitConfiguration
bootstrapTokens:
- token: abcdef.0123456789abcdef
  ttl: 2h
localAPIEndpoint:
  advertiseAddress: 127.0.0.1
  bindPort: ${port}
nodeRegistration:
  name: kf-standin-cp-1
  criSocket: unix:///run/containerd/containerd.sock
  ignorePreflightErrors: ${JSON.stringify(CPU_IGNORE)}
  kubeletExtraArgs:
    node-ip: 127.0.0.1
${extra}---
apiVersion: kubeadm.k8s.io/v1beta3
kind: ClusterConfiguration
clusterName: kubeforge-test
kubernetesVersion: v1.30.2
controlPlaneEndpoint: 127.0.0.1:${port}
networking:
  podSubnet: 10.244.0.0/16
---
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
cgroupDriver: systemd
`;
}

function initV1beta4(port: number): string {
  return `apiVersion: kubeadm.k8s.io/v1beta4
kind: InitConfiguration
localAPIEndpoint:
  advertiseAddress: 127.0.0.1
  bindPort: ${port}
nodeRegistration:
  criSocket: unix:///run/containerd/containerd.sock
  name: kf-standin-cp-1
  ignorePreflightErrors: ${JSON.stringify(CPU_IGNORE)}
  kubeletExtraArgs:
  - name: node-ip
    value: 127.0.0.1
`;
}

function joinConfig(endpoint: string, token: string, hash: string, timeout = '3s'): string {
  return `apiVersion: kubeadm.k8s.io/v1beta3
kind: JoinConfiguration
discovery:
  timeout: ${timeout}
  bootstrapToken:
    apiServerEndpoint: ${endpoint}
    token: ${token}
    caCertHashes: ["${hash}"]
nodeRegistration:
  name: kf-standin-worker-1
  criSocket: unix:///run/containerd/containerd.sock
`;
}

const CONFIG = '/etc/kubeforge/kubeadm.yaml';
const TOKEN = 'abcdef.0123456789abcdef';

async function initHost(version = 'v1.30.2'): Promise<{ host: TestHost; init: Result }> {
  const host = await makeHost(version);
  host.write(CONFIG, initConfig(host.port).replace('kubernetesVersion: v1.30.2', `kubernetesVersion: ${version}`));
  const init = await host.kubeadm('init', '--config', CONFIG, '--upload-certs');
  return { host, init };
}

function lastEntry(entries: Array<Record<string, unknown>>): Record<string, unknown> {
  expect(entries.length).toBeGreaterThan(0);
  return entries[entries.length - 1]!;
}

function caHashOf(host: TestHost): string {
  return `sha256:${createHash('sha256').update(host.read('etc/kubernetes/pki/ca.crt')).digest('hex')}`;
}

/** Run a stand-in in the background (the kubelet), killed after the test. */
function background(tool: string, host: TestHost, args: string[]) {
  const child = spawn(tool, args, { env: toolEnv(host.root), stdio: 'ignore' });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  cleanups.unshift(async () => { child.kill('SIGKILL'); });
  return { child, exited };
}

async function until<T>(what: string, probe: () => T | undefined | false, ms = 15_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const ADMIN = ['--kubeconfig', '/etc/kubernetes/admin.conf'];

const FLANNEL = `apiVersion: v1
kind: Namespace
metadata:
  name: kube-flannel
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: kube-flannel-cfg
  namespace: kube-flannel
data:
  cni-conf.json: |
    {"name": "cbr0", "cniVersion": "0.3.1", "plugins": [{"type": "flannel"}, {"type": "portmap"}]}
---
apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: kube-flannel-ds
  namespace: kube-flannel
spec:
  selector:
    matchLabels: {app: flannel}
  template:
    metadata:
      labels: {app: flannel}
    spec:
      initContainers:
      - {name: install-cni, image: ghcr.io/flannel-io/flannel:v0.26.1}
      containers:
      - {name: kube-flannel, image: ghcr.io/flannel-io/flannel:v0.26.1}
      volumes:
      - {name: cni, hostPath: {path: /etc/cni/net.d}}
      - {name: flannel-cfg, configMap: {name: kube-flannel-cfg}}
`;

/**
 * Where kubeforge's src/cluster/kubeadm-images.ts disagrees with upstream kubeadm (see README.md):
 * version -> [image the stand-in lists (upstream), image kubeforge lists]. Remove an entry once src is fixed.
 */

describe.skipIf(missing !== undefined)(
  `kubeadm/kubelet/kubectl/crictl/kube-apiserver stand-ins${missing ? ` (skipped: ${missing})` : ''}`,
  () => {
    it('kubeadm version -o short prints the baked version', async () => {
      const host = await makeHost('v1.31.4');
      expect(await host.kubeadm('version', '-o', 'short')).toEqual({ code: 0, stdout: 'v1.31.4\n', stderr: '' });
      expect((await host.kubeadm('version', '-o=short')).stdout).toBe('v1.31.4\n');
    });

    it('config images list agrees with kubeforge\'s table', async () => {
      const host = await makeHost('v1.35.0', { images: false });
      for (const text of ['1.28.0', '1.28.15', '1.29.2', '1.29.10', '1.30.2', '1.30.6', '1.31.0', '1.31.2', '1.32.0',
        '1.33.0', '1.34.0', '1.35.0']) {
        const r = await host.kubeadm('config', 'images', 'list', '--kubernetes-version', `v${text}`);
        expect(r.code, r.stderr).toBe(0);
        const standin = r.stdout.trim().split('\n');
        const ours = kubeadmImages(parseVersion(text)!);
        expect(standin, text).toEqual(ours);
      }
      const newer = await host.kubeadm('config', 'images', 'list', '--kubernetes-version', 'v1.36.0');
      expect(newer.code).toBe(1);
    });

    it('init with a valid v1beta3 config starts the API server, prints token and CA hash and logs the call', async () => {
      const { host, init } = await initHost();
      expect(init.stderr).toBe('');
      expect(init.code).toBe(0);
      const ep = `127.0.0.1:${host.port}`;
      const caHash = caHashOf(host);
      const key = /\[upload-certs\] Using certificate key:\n([0-9a-f]{64})\n/.exec(init.stdout)?.[1];
      expect(key).toBeDefined();
      expect(init.stdout).toContain('[api-check] The API server is healthy after ');
      expect(init.stdout).toContain(
        'You can now join any number of the control-plane node running the following command on each as root:\n\n'
        + `  kubeadm join ${ep} --token ${TOKEN} \\\n`
        + `\t--discovery-token-ca-cert-hash ${caHash} \\\n`
        + `\t--control-plane --certificate-key ${key}\n`,
      );
      expect(init.stdout.endsWith(
        'Then you can join any number of worker nodes by running the following on each as root:\n\n'
        + `kubeadm join ${ep} --token ${TOKEN} \\\n\t--discovery-token-ca-cert-hash ${caHash} \n`,
      )).toBe(true);
      expect(host.mode('etc/kubernetes/admin.conf')).toBe(0o600);
      const admin = parseYaml(host.read('etc/kubernetes/admin.conf')) as Record<string, any>;
      expect(admin.clusters[0].cluster.server).toBe(`https://${ep}`);
      expect(admin.users[0].user.token).toMatch(/^[0-9a-f]{48}$/);
      expect(host.read('var/lib/kubelet/kubeadm-flags.env')).toBe(
        'KUBELET_KUBEADM_ARGS="--container-runtime-endpoint=unix:///run/containerd/containerd.sock '
        + '--hostname-override=kf-standin-cp-1 --node-ip=127.0.0.1 '
        + '--pod-infra-container-image=registry.k8s.io/pause:3.9"\n',
      );
      const entry = lastEntry(host.log('kubeadm'));
      expect(entry.exit).toBe(0);
      expect(entry.preflightWarnings).toEqual([]);
      expect(entry.preflightErrors).toEqual([]);
      expect(entry.result).toMatchObject({ token: TOKEN, caCertHash: caHash, certificateKey: key });

      expect(await host.kubectl(...ADMIN, 'get', '--raw', '/readyz')).toEqual({ code: 0, stdout: 'ok\n', stderr: '' });
      const version = JSON.parse((await host.kubectl(...ADMIN, 'get', '--raw', '/version')).stdout);
      expect(version).toMatchObject({ major: '1', minor: '30', gitVersion: 'v1.30.2' });
      const unauth = await host.kubectl('--kubeconfig', '/etc/kubernetes/bootstrap-none.conf', 'get', 'nodes');
      expect(unauth.code).toBe(1);
      host.write('etc/kubernetes/bad.conf', host.read('etc/kubernetes/admin.conf').replace(/token: \w+/, 'token: nope'));
      expect(await host.kubectl('--kubeconfig', '/etc/kubernetes/bad.conf', 'get', 'nodes')).toMatchObject({
        code: 1, stderr: 'error: You must be logged in to the server (Unauthorized)\n' });

      // A second init on the same host fails preflight: manifests exist and the port is taken.
      const again = await host.kubeadm('init', '--config', CONFIG);
      expect(again.code).toBe(1);
      expect(again.stderr).toContain(`\t[ERROR Port-${host.port}]: Port ${host.port} is in use\n`);
      expect(again.stderr).toContain('\t[ERROR FileAvailable--etc-kubernetes-manifests-kube-apiserver.yaml]: '
        + '/etc/kubernetes/manifests/kube-apiserver.yaml already exists\n');
    });

    it('preflight per version: conntrack and crictl in PATH', async () => {
      const v131 = await makeHost('v1.31.0', { missing: ['conntrack', 'crictl', 'socat'] });
      v131.write(CONFIG, initV1beta4(v131.port));
      const r131 = await v131.kubeadm('init', '--config', CONFIG);
      expect(r131.code).toBe(1);
      expect(r131.stderr).toContain('\t[ERROR FileExisting-conntrack]: conntrack not found in system path\n');
      expect(r131.stderr).toContain('\t[WARNING FileExisting-crictl]: crictl not found in system path\n');
      expect(r131.stderr).toContain('\t[WARNING FileExisting-socat]: socat not found in system path\n');
      expect(lastEntry(v131.log('kubeadm')).preflightWarnings).toEqual([
        '[WARNING FileExisting-crictl]: crictl not found in system path',
        '[WARNING FileExisting-socat]: socat not found in system path']);

      const v132 = await makeHost('v1.32.0', { missing: ['conntrack', 'crictl'] });
      v132.write(CONFIG, initV1beta4(v132.port));
      const r132 = await v132.kubeadm('init', '--config', CONFIG);
      expect(r132.stderr).not.toContain('conntrack');
      expect(r132.stderr).not.toContain('crictl');
      expect(r132.code).toBe(0);

      const v130 = await makeHost('v1.30.2', { missing: ['crictl', 'iptables'] });
      v130.write(CONFIG, initConfig(v130.port));
      const r130 = await v130.kubeadm('init', '--config', CONFIG);
      expect(r130.code).toBe(1);
      expect(r130.stderr).toContain('\t[ERROR FileExisting-crictl]: crictl not found in system path\n');
      expect(r130.stderr).toContain('\t[ERROR FileExisting-iptables]: iptables not found in system path\n');
      expect(lastEntry(v130.log('kubeadm')).preflightErrors).toEqual([
        '[ERROR FileExisting-crictl]: crictl not found in system path',
        '[ERROR FileExisting-iptables]: iptables not found in system path']);
    });

    it('preflight: memory, CPUs, kernel config, cgroups v1 per version, images, ignorePreflightErrors', async () => {
      const small = await makeHost('v1.30.2', { memKb: 1_024_000, kernelConfig: false, cgroupV1: true });
      small.write(CONFIG, initConfig(small.port));
      const r = await small.kubeadm('init', '--config', CONFIG);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('\t[ERROR Mem]: the system RAM (1000 MB) is less than the minimum 1700 MB\n');
      expect(r.stderr).toContain('\t[ERROR SystemVerification]: failed to parse kernel config: unable to load kernel module: "configs"');
      expect(r.stderr).not.toContain('cgroups v1'); // no cgroups v1 warning before 1.31

      const v131 = await makeHost('v1.31.0', { cgroupV1: true });
      v131.write(CONFIG, initV1beta4(v131.port));
      const w = await v131.kubeadm('init', '--config', CONFIG);
      expect(w.code).toBe(0);
      expect(w.stderr).toBe('\t[WARNING SystemVerification]: cgroups v1 support is in maintenance mode, please migrate to cgroups v2\n');

      const v135 = await makeHost('v1.35.0', { cgroupV1: true });
      v135.write(CONFIG, initV1beta4(v135.port));
      const e = await v135.kubeadm('init', '--config', CONFIG);
      expect(e.code).toBe(1);
      expect(e.stderr).toContain('\t[ERROR SystemVerification]: cgroups v1 support is deprecated');

      const noImages = await makeHost('v1.30.2', { images: false });
      noImages.write(CONFIG, initConfig(noImages.port));
      const pull = await noImages.kubeadm('init', '--config', CONFIG);
      expect(pull.code).toBe(1);
      expect(pull.stderr).toContain('\t[ERROR ImagePull]: failed to pull image registry.k8s.io/kube-apiserver:v1.30.2: ');
      expect(pull.stderr).toContain('failed to pull image registry.k8s.io/etcd:3.5.12-0: ');
      noImages.write(CONFIG, initConfig(noImages.port).replace('ignorePreflightErrors: ', 'imagePullPolicy: Never\n  ignorePreflightErrors: '));
      expect((await noImages.kubeadm('init', '--config', CONFIG)).code).toBe(0);

      const ignored = await makeHost('v1.30.2', { memKb: 1_024_000 });
      ignored.write(CONFIG, initConfig(ignored.port).replace(/ignorePreflightErrors: .*/, 'ignorePreflightErrors: [Mem, NumCPU]'));
      const ok = await ignored.kubeadm('init', '--config', CONFIG);
      expect(ok.code).toBe(0);
      expect(ok.stderr).toContain('\t[WARNING Mem]: the system RAM (1000 MB) is less than the minimum 1700 MB\n');

      const oneCpu = await makeHost('v1.30.2');
      oneCpu.write(CONFIG, initConfig(oneCpu.port).replace(/ignorePreflightErrors: .*/, 'ignorePreflightErrors: []'));
      const pinned = await runTool('/usr/bin/python3', oneCpu.root,
        ['-c', 'import os,sys; os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]}); os.execv(sys.argv[1], sys.argv[1:])',
          KUBEADM, 'init', '--config', CONFIG]);
      expect(pinned.code).toBe(1);
      expect(pinned.stderr).toContain('\t[ERROR NumCPU]: the number of available CPUs 1 is less than the required 2\n');
    });

    it('init refuses v1beta4 below Kubernetes 1.31 and a config with an unknown field', async () => {
      const old = await makeHost('v1.30.2');
      old.write(CONFIG, initV1beta4(old.port));
      const refused = await old.kubeadm('init', '--config', CONFIG);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain('no kind "InitConfiguration" is registered for version "kubeadm.k8s.io/v1beta4"');
      old.write(CONFIG, initConfig(old.port).replace('  name: kf-standin-cp-1\n', '  name: kf-standin-cp-1\n  foo: bar\n'));
      const r = await old.kubeadm('init', '--config', CONFIG);
      expect(r.stderr).toContain('strict decoding error: unknown field "nodeRegistration.foo"');
      expect(old.has('etc/kubernetes/admin.conf')).toBe(false);
    });

    it('init refuses a CRI socket nobody listens on, as the CRI preflight check', async () => {
      const host = await makeHost();
      host.write(CONFIG, initConfig(host.port).replace('unix:///run/containerd/containerd.sock', 'unix:///run/nothing/here.sock'));
      const r = await host.kubeadm('init', '--config', CONFIG);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('error execution phase preflight: [preflight] Some fatal errors occurred:\n');
      expect(r.stderr).toContain('dial unix /run/nothing/here.sock: connect: no such file or directory');
    });

    it('kubeadm refuses unknown flags and commands like cobra does', async () => {
      const host = await makeHost();
      expect(await host.kubeadm('init', '--config', CONFIG, '--foo')).toEqual({
        code: 1, stdout: '', stderr: 'unknown flag: --foo\nTo see the stack trace of this error execute with --v=5 or higher\n' });
      expect((await host.kubeadm('frobnicate')).stderr).toContain('unknown command "frobnicate" for "kubeadm"');
    });

    it('token create talks to the API server; a join discovers the cluster with it over the network', async () => {
      const { host, init } = await initHost();
      expect(init.code, init.stderr).toBe(0);
      const caHash = caHashOf(host);
      const r = await host.kubeadm('token', 'create', '--print-join-command', '--ttl', '1h');
      expect(r.code, r.stderr).toBe(0);
      const m = new RegExp(`^kubeadm join 127\\.0\\.0\\.1:${host.port} --token ([a-z0-9]{6}\\.[a-z0-9]{16}) --discovery-token-ca-cert-hash (sha256:[0-9a-f]{64}) \\n$`).exec(r.stdout);
      expect(m, r.stdout).not.toBeNull();
      expect(m![2]).toBe(caHash);
      const secrets = JSON.parse((await host.kubectl(...ADMIN, 'get', '--raw', '/api/v1/namespaces/kube-system/secrets')).stdout);
      expect(secrets.items.map((s: any) => s.metadata.name)).toContain(`bootstrap-token-${m![1]!.split('.')[0]}`);

      const worker = await makeHost();
      worker.write(CONFIG, joinConfig(`127.0.0.1:${host.port}`, m![1]!, caHash));
      const join = await worker.kubeadm('join', '--config', CONFIG);
      expect(join.stderr).toBe('');
      expect(join.code).toBe(0);
      expect(worker.read('etc/kubernetes/pki/ca.crt')).toBe(host.read('etc/kubernetes/pki/ca.crt'));
      const boot = parseYaml(worker.read('etc/kubernetes/bootstrap-kubelet.conf')) as Record<string, any>;
      expect(boot.users[0].user.token).toBe(m![1]!);
      expect(worker.mode('etc/kubernetes/bootstrap-kubelet.conf')).toBe(0o600);
      expect(worker.read('var/lib/kubelet/config.yaml')).toBe(host.read('var/lib/kubelet/config.yaml'));
      expect(worker.has('etc/kubernetes/admin.conf')).toBe(false);

      // The kubelet performs the TLS bootstrap, registers the node and reports NotReady until a CNI config exists.
      background(KUBELET, worker, ['--bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf',
        '--kubeconfig=/etc/kubernetes/kubelet.conf', '--config=/var/lib/kubelet/config.yaml',
        '--hostname-override=kf-standin-worker-1', '--node-labels=node.kubernetes.io/pool=a']);
      await until('kubelet.conf', () => worker.has('etc/kubernetes/kubelet.conf'));
      expect(worker.mode('etc/kubernetes/kubelet.conf')).toBe(0o600);
      const node = await until('the node', () => {
        const events = worker.log('kubelet').map((e) => e.event);
        return events.includes('not-ready') && events;
      });
      expect(node).toEqual(expect.arrayContaining(['started', 'tls-bootstrapped', 'registered', 'not-ready']));
      const nodes = JSON.parse((await host.kubectl(...ADMIN, 'get', 'nodes', '-o', 'json')).stdout);
      const w = nodes.items.find((n: any) => n.metadata.name === 'kf-standin-worker-1');
      expect(w.metadata.labels['node.kubernetes.io/pool']).toBe('a');
      expect(w.status.nodeInfo.kubeletVersion).toBe('v1.30.2');
      expect(w.status.conditions[0]).toMatchObject({ type: 'Ready', status: 'False', reason: 'KubeletNotReady',
        message: 'container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:Network plugin returns error: cni plugin not initialized' });

      // kubectl apply of a flannel-shaped add-on: with its images present, the kubelet writes the CNI config.
      host.write('etc/flannel.yaml', FLANNEL);
      const applied = await host.kubectl(...ADMIN, 'apply', '-f', '/etc/flannel.yaml');
      expect(applied).toEqual({ code: 0, stderr: '', stdout:
        'namespace/kube-flannel created\nconfigmap/kube-flannel-cfg created\ndaemonset.apps/kube-flannel-ds created\n' });
      expect((await host.kubectl(...ADMIN, 'apply', '-f', '/etc/flannel.yaml')).stdout).toBe(
        'namespace/kube-flannel unchanged\nconfigmap/kube-flannel-cfg unchanged\ndaemonset.apps/kube-flannel-ds unchanged\n');
      await until('image-missing', () => worker.log('kubelet').some((e) => e.event === 'image-missing'));
      expect(worker.has('etc/cni/net.d/10-flannel.conflist')).toBe(false);
      worker.setImages(['ghcr.io/flannel-io/flannel:v0.26.1']);
      await until('cni-installed', () => worker.has('etc/cni/net.d/10-flannel.conflist'));
      worker.write('opt/cni/bin/loopback', '#!/bin/sh\n');
      chmodSync(path.join(worker.root, 'opt/cni/bin/loopback'), 0o755);
      await until('Ready', () => worker.log('kubelet').some((e) => e.event === 'ready'));
      const table = await host.kubectl(...ADMIN, 'get', 'nodes');
      expect(table.stdout).toMatch(/^NAME +STATUS +ROLES +AGE +VERSION\nkf-standin-worker-1 +Ready +<none> +\d+s +v1\.30\.2\n$/);

      const crictlInfo = await worker.crictl('-r', 'unix:///run/containerd/containerd.sock', 'info');
      expect(JSON.parse(crictlInfo.stdout).status.conditions).toEqual([
        { type: 'RuntimeReady', status: true, reason: '', message: '' },
        { type: 'NetworkReady', status: true, reason: '', message: '' }]);
    });

    it('join fails like kubeadm on a wrong CA hash, an unknown token and an unreachable endpoint', async () => {
      const { host, init } = await initHost();
      expect(init.code, init.stderr).toBe(0);
      const ep = `127.0.0.1:${host.port}`;
      const worker = await makeHost();
      const wrongHash = `sha256:${'ab'.repeat(32)}`;
      worker.write(CONFIG, joinConfig(ep, TOKEN, wrongHash));
      const hash = await worker.kubeadm('join', '--config', CONFIG);
      expect(hash.code).toBe(1);
      expect(hash.stderr).toContain('error execution phase preflight: couldn\'t validate the identity of the API Server: '
        + `cluster CA found in cluster-info ConfigMap is invalid: none of the public keys "${caHashOf(host)}" are pinned`);
      expect(worker.has('etc/kubernetes/pki/ca.crt')).toBe(false);

      worker.write(CONFIG, joinConfig(ep, 'zzzzzz.0123456789abcdef', caHashOf(host), '1s'));
      const token = await worker.kubeadm('join', '--config', CONFIG);
      expect(token.stderr).toContain('could not find a JWS signature in the cluster-info ConfigMap for token ID "zzzzzz"');

      worker.write(CONFIG, joinConfig(ep, 'abcdef.0000000000000000', caHashOf(host), '1s'));
      const secret = await worker.kubeadm('join', '--config', CONFIG);
      expect(secret.stderr).toContain('failed to verify JWS signature of received cluster info object, can\'t trust this API Server');

      const closed = await freePort();
      worker.write(CONFIG, joinConfig(`127.0.0.1:${closed}`, TOKEN, caHashOf(host), '2s'));
      const refused = await worker.kubeadm('join', '--config', CONFIG);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain(`[discovery] Failed to request cluster-info, will try again: Get "https://127.0.0.1:${closed}/api/v1/namespaces/kube-public/configmaps/cluster-info?timeout=10s": dial tcp 127.0.0.1:${closed}: connect: connection refused\n`);
      expect(refused.stderr).toContain("error execution phase preflight: couldn't validate the identity of the API Server: "
        + `failed to request the cluster-info ConfigMap: Get "https://127.0.0.1:${closed}/api/v1/namespaces/kube-public/configmaps/cluster-info?timeout=10s": dial tcp 127.0.0.1:${closed}: connect: connection refused`);
    }, 60_000);

    it('a control-plane join checks the certificate key against the uploaded certs', async () => {
      const { host, init } = await initHost();
      const key = /\[upload-certs\] Using certificate key:\n([0-9a-f]{64})\n/.exec(init.stdout)![1]!;
      const cp = await makeHost();
      const cpConfig = (k: string) => joinConfig(`127.0.0.1:${host.port}`, TOKEN, caHashOf(host))
        .replace('kf-standin-worker-1', 'kf-standin-cp-2')
        .replace('nodeRegistration:', `controlPlane:\n  certificateKey: ${k}\n  localAPIEndpoint:\n    advertiseAddress: 127.0.0.1\n    bindPort: ${cp.port}\nnodeRegistration:\n  ignorePreflightErrors: ${JSON.stringify(CPU_IGNORE)}`);
      cp.write(CONFIG, cpConfig('ab'.repeat(32)));
      const wrong = await cp.kubeadm('join', '--config', CONFIG);
      expect(wrong.code).toBe(1);
      expect(wrong.stderr).toContain('error downloading certs: error decoding secret data with provided key: cipher: message authentication failed');
      cp.write(CONFIG, cpConfig(key));
      const ok = await cp.kubeadm('join', '--config', CONFIG);
      expect(ok.stderr).toBe('');
      expect(ok.code).toBe(0);
      expect((await cp.kubectl(...ADMIN, 'get', '--raw', '/readyz')).stdout).toBe('ok\n');
      const uploaded = await host.kubeadm('init', 'phase', 'upload-certs', '--upload-certs');
      expect(uploaded.code, uploaded.stderr).toBe(0);
    });

    it('token create and upload-certs fail on a host that never ran init', async () => {
      const host = await makeHost();
      const token = await host.kubeadm('token', 'create', '--print-join-command');
      expect(token.code).toBe(1);
      expect(token.stderr).toContain('failed to load admin kubeconfig');
      expect((await host.kubeadm('init', 'phase', 'upload-certs', '--upload-certs')).code).toBe(1);
    });

    it('kubeadm upgrade: policy.go refusals, plan reports, apply needs --yes and moves the API server and kubeadm-config, upgrade node waits for apply', async () => {
      const { host, init } = await initHost();
      expect(init.code, init.stderr).toBe(0);
      const admin = ['--kubeconfig', '/etc/kubernetes/admin.conf'];
      const skipped = await host.kubeadm('upgrade', 'apply', 'v1.32.0', '--yes');
      expect(skipped.code).toBe(1);
      expect(skipped.stderr).toContain('Specified version to upgrade to "v1.32.0" is too high; kubeadm can upgrade only 1 minor version at a time');
      const newer = await host.kubeadm('upgrade', 'apply', 'v1.31.1', '--yes');
      expect(newer.stderr).toContain('at least one minor release higher than the kubeadm minor release (31 > 30)');
      // The host's kubeadm (and the API server binary beside it) become 1.31.1, as the binaries step does.
      host.write('usr/local/share/kubeforge-standin/kubernetes-version', 'v1.31.1\n');
      const early = await host.kubeadm('upgrade', 'node');
      expect(early.code).toBe(1);
      expect(early.stderr).toContain('run `kubeadm upgrade apply v1.31.1` on the first control plane');
      const plan = await host.kubeadm('upgrade', 'plan', 'v1.31.1');
      expect(plan.code, plan.stderr).toBe(0);
      expect(plan.stdout).toContain('[upgrade/versions] Cluster version: v1.30.2');
      expect(plan.stdout).toMatch(/^kube-apiserver\s+\S+\s+v1\.30\.2\s+v1\.31\.1$/m);
      expect(plan.stdout).toContain('\tkubeadm upgrade apply v1.31.1');
      // Not interactive and no --yes: refused on the empty answer.
      const asked = spawnSync(KUBEADM, ['upgrade', 'apply', 'v1.31.1'], { env: toolEnv(host.root), input: '', encoding: 'utf8' });
      expect(asked.status).toBe(1);
      expect(asked.stderr).toContain("won't proceed; the user didn't answer (Y|y) in order to continue");
      const apply = await host.kubeadm('upgrade', 'apply', 'v1.31.1', '--yes');
      expect(apply.code, apply.stderr).toBe(0);
      expect(apply.stdout).toContain('[upgrade] SUCCESS! A control plane node of your cluster was upgraded to "v1.31.1".');
      expect(JSON.parse((await host.kubectl(...admin, 'get', '--raw', '/version')).stdout).gitVersion).toBe('v1.31.1');
      const cm = JSON.parse((await host.kubectl(...admin, 'get', '--raw', '/api/v1/namespaces/kube-system/configmaps/kubeadm-config')).stdout);
      expect(parseYaml(cm.data.ClusterConfiguration).kubernetesVersion).toBe('v1.31.1');
      expect(host.read('etc/kubernetes/manifests/kube-apiserver.yaml')).toContain('image: registry.k8s.io/kube-apiserver:v1.31.1');
      expect(host.read('etc/kubernetes/manifests/etcd.yaml')).not.toContain(':v1.31.1');
      // upgrade node: fails once when the test's fault file is there, then succeeds.
      host.write('var/lib/kubeadm-standin/fail-next-upgrade-node', '');
      expect((await host.kubeadm('upgrade', 'node')).code).toBe(1);
      const node = await host.kubeadm('upgrade', 'node');
      expect(node.code, node.stderr).toBe(0);
      expect(node.stdout).toContain('[upgrade] The control plane instance for this node was successfully upgraded!');
      expect(host.log('kubeadm').filter((e) => (e.argv as string[])[0] === 'upgrade').map((e) => [e.command, e.exit])).toEqual([
        ['upgrade apply', 1], ['upgrade apply', 1], ['upgrade node', 1], ['upgrade plan', 0], ['upgrade apply', 1], ['upgrade apply', 0], ['upgrade node', 1], ['upgrade node', 0],
      ]);
    });

    it('reset -f stops the API server and removes what init wrote, so init can run again', async () => {
      const { host } = await initHost();
      const reset = await host.kubeadm('reset', '-f');
      expect(reset.code).toBe(0);
      for (const file of ['etc/kubernetes/admin.conf', 'etc/kubernetes/kubelet.conf', 'etc/kubernetes/pki/ca.crt',
        'etc/kubernetes/manifests/kube-apiserver.yaml', 'var/lib/kubelet/config.yaml',
        'var/lib/kube-apiserver-standin/state.json', 'var/lib/kubeadm-standin/state.json']) {
        expect(host.has(file), file).toBe(false);
      }
      const r = await host.kubectl('--kubeconfig', '/nope', 'get', 'nodes');
      expect(r.code).toBe(1);
      const again = await host.kubeadm('init', '--config', CONFIG);
      expect(again.code, again.stderr).toBe(0);
      host.write('etc/kubeconfig-closed', host.read('etc/kubernetes/admin.conf').replace(`:${host.port}`, `:${await freePort()}`));
      const closed = await host.kubectl('--kubeconfig', '/etc/kubeconfig-closed', 'get', 'nodes');
      expect(closed.code).toBe(1);
      expect(closed.stderr).toMatch(/^The connection to the server 127\.0\.0\.1:\d+ was refused - did you specify the right host or port\?\n$/);
    });

    it('kubectl cordon, uncordon, drain and delete node as upstream: filters, eviction API, output', async () => {
      const { host, init } = await initHost();
      expect(init.code, init.stderr).toBe(0);
      const owner = (kind: string, name: string) => `ownerReferences: [{apiVersion: apps/v1, kind: ${kind}, name: ${name}, uid: u-${name}, controller: true}]`;
      host.write('etc/drain.yaml', [
        'apiVersion: v1\nkind: Node\nmetadata: {name: w1}',
        'apiVersion: v1\nkind: Node\nmetadata: {name: w2}',
        'apiVersion: v1\nkind: Namespace\nmetadata: {name: apps}',
        'apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: agent, namespace: apps}\nspec: {selector: {matchLabels: {app: agent}}, template: {metadata: {labels: {app: agent}}, spec: {containers: [{name: a, image: a}]}}}',
        `apiVersion: v1\nkind: Pod\nmetadata: {name: agent-w1, namespace: apps, ${owner('DaemonSet', 'agent')}}\nspec: {nodeName: w1, containers: [{name: a, image: a}]}`,
        `apiVersion: v1\nkind: Pod\nmetadata: {name: web-1, namespace: apps, ${owner('ReplicaSet', 'web')}}\nspec: {nodeName: w1, containers: [{name: a, image: a}]}`,
        'apiVersion: v1\nkind: Pod\nmetadata: {name: scratch, namespace: apps}\nspec: {nodeName: w1, volumes: [{name: tmp, emptyDir: {}}], containers: [{name: a, image: a}]}',
        'apiVersion: v1\nkind: Pod\nmetadata: {name: static-w1, namespace: apps, annotations: {kubernetes.io/config.mirror: x}}\nspec: {nodeName: w1, containers: [{name: a, image: a}]}',
        'apiVersion: v1\nkind: Pod\nmetadata: {name: elsewhere, namespace: apps}\nspec: {nodeName: w2, containers: [{name: a, image: a}]}',
      ].join('\n---\n'));
      const applied = await host.kubectl(...ADMIN, 'apply', '-f', '/etc/drain.yaml');
      expect(applied.code, applied.stderr).toBe(0);
      const pods = async () => (JSON.parse((await host.kubectl(...ADMIN, 'get', '--raw', '/api/v1/pods')).stdout).items as any[]).map((p) => p.metadata.name).sort();
      const unschedulable = async (node: string) => JSON.parse((await host.kubectl(...ADMIN, 'get', 'nodes', node, '-o', 'json')).stdout).spec?.unschedulable;

      expect(await host.kubectl(...ADMIN, 'cordon', 'w2')).toEqual({ code: 0, stdout: 'node/w2 cordoned\n', stderr: '' });
      expect(await unschedulable('w2')).toBe(true);
      expect((await host.kubectl(...ADMIN, 'cordon', 'w2')).stdout).toBe('node/w2 already cordoned\n');
      expect(await host.kubectl(...ADMIN, 'uncordon', 'w2')).toEqual({ code: 0, stdout: 'node/w2 uncordoned\n', stderr: '' });
      expect(await unschedulable('w2')).toBeUndefined();
      expect(await host.kubectl(...ADMIN, 'cordon', 'nope')).toMatchObject({ code: 1, stderr: 'Error from server (NotFound): nodes "nope" not found\n' });

      // Refused without each flag, naming the pods (filters.go); nothing is evicted then.
      const bare = await host.kubectl(...ADMIN, 'drain', 'w1');
      expect(bare.code).toBe(1);
      expect(bare.stdout).toBe('node/w1 cordoned\n');
      expect(bare.stderr).toContain('cannot delete DaemonSet-managed Pods (use --ignore-daemonsets to ignore): apps/agent-w1');
      expect(bare.stderr).toContain('cannot delete Pods with local storage (use --delete-emptydir-data to override): apps/scratch');
      const noForce = await host.kubectl(...ADMIN, 'drain', 'w1', '--ignore-daemonsets', '--delete-emptydir-data');
      expect(noForce.code).toBe(1);
      expect(noForce.stdout).toBe('node/w1 already cordoned\n');
      expect(noForce.stderr).toContain('cannot delete Pods that declare no controller (use --force to override): apps/scratch');
      expect(noForce.stderr).not.toContain('agent-w1');
      expect(await pods()).toEqual(['agent-w1', 'elsewhere', 'scratch', 'static-w1', 'web-1']);
      expect((await host.kubectl(...ADMIN, 'drain', 'w1', '--bogus')).stderr).toMatch(/^error: unknown flag: --bogus/);
      expect((await host.kubectl(...ADMIN, 'drain', 'w1', '--timeout=soon')).stderr).toMatch(/invalid argument "soon" for "--timeout" flag/);

      const drained = await host.kubectl(...ADMIN, 'drain', 'w1', '--ignore-daemonsets', '--delete-emptydir-data', '--force', '--timeout=60s');
      expect(drained.code, drained.stderr).toBe(0);
      expect(drained.stderr).toMatch(/^Warning: .*ignoring DaemonSet-managed Pods: apps\/agent-w1/);
      const lines = drained.stdout.trim().split('\n');
      expect(lines[0]).toBe('node/w1 already cordoned');
      expect(lines.slice(1, -1).sort()).toEqual(['evicting pod apps/scratch', 'evicting pod apps/web-1', 'pod/scratch evicted', 'pod/web-1 evicted']);
      expect(lines.at(-1)).toBe('node/w1 drained');
      // DaemonSet and mirror pods stay, as do other nodes' pods; the evictions went through the eviction API.
      expect(await pods()).toEqual(['agent-w1', 'elsewhere', 'static-w1']);
      const evictions = host.log('kube-apiserver').filter((e) => String(e.path).endsWith('/eviction')).map((e) => [e.method, e.path, e.code]);
      expect(evictions.sort()).toEqual([['POST', '/api/v1/namespaces/apps/pods/scratch/eviction', 201], ['POST', '/api/v1/namespaces/apps/pods/web-1/eviction', 201]]);

      // A PodDisruptionBudget nobody computes (no disruption controller) blocks eviction, as upstream's 429.
      host.write('etc/pdb.yaml', 'apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: keep, namespace: apps}\nspec: {minAvailable: 1, selector: {matchLabels: {app: kept}}}\n---\n' +
        `apiVersion: v1\nkind: Pod\nmetadata: {name: kept, namespace: apps, labels: {app: kept}, ${owner('ReplicaSet', 'kept')}}\nspec: {nodeName: w2, containers: [{name: a, image: a}]}\n`);
      expect((await host.kubectl(...ADMIN, 'apply', '-f', '/etc/pdb.yaml')).code).toBe(0);
      const blocked = await host.kubectl(...ADMIN, 'drain', 'w2', '--force', '--timeout=1s');
      expect(blocked.code).toBe(1);
      expect(blocked.stderr).toContain("Cannot evict pod as it would violate the pod's disruption budget.");
      expect(await pods()).toContain('kept');

      expect(await host.kubectl(...ADMIN, 'delete', 'node', 'w1')).toEqual({ code: 0, stdout: 'node "w1" deleted\n', stderr: '' });
      expect(await host.kubectl(...ADMIN, 'delete', 'node', 'w1')).toMatchObject({ code: 1, stderr: 'Error from server (NotFound): nodes "w1" not found\n' });
      expect(await host.kubectl(...ADMIN, 'delete', 'node', 'w1', '--ignore-not-found')).toEqual({ code: 0, stdout: '', stderr: '' });
      // A list request with a field selector the API server does not know is refused, not answered unfiltered.
      const bad = await host.kubectl(...ADMIN, 'get', '--raw', '/api/v1/pods?fieldSelector=spec.bogus%3Dx');
      expect(bad.code).toBe(1);
      expect(bad.stderr).toContain('field label not supported: spec.bogus');
    });

    it('kubelet refuses --container-runtime=remote (removed in 1.27) and unknown flags', async () => {
      const host = await makeHost();
      const r = await host.kubelet('--container-runtime=remote');
      expect(r).toEqual({ code: 1, stdout: '', stderr: 'Error: failed to parse kubelet flag: unknown flag: --container-runtime\n' });
      const newer = await makeHost('v1.35.0');
      const pause = await newer.kubelet('--pod-infra-container-image=registry.k8s.io/pause:3.10');
      expect(pause.stderr).toBe('Error: failed to parse kubelet flag: unknown flag: --pod-infra-container-image\n');
      expect((await newer.kubelet('--version')).stdout).toBe('Kubernetes v1.35.0\n');
    });

    it('kubelet 1.35 refuses cgroup v1 unless failCgroupV1: false', async () => {
      const host = await makeHost('v1.35.0', { cgroupV1: true });
      host.write('var/lib/kubelet/config.yaml', 'apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\ncgroupDriver: systemd\n');
      const r = await host.kubelet('--config=/var/lib/kubelet/config.yaml', '--kubeconfig=/etc/kubernetes/kubelet.conf');
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('kubelet is configured to not run on a host using cgroup v1');
      host.write('var/lib/kubelet/config.yaml', 'apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\nfailCgroupV1: false\n');
      const next = await host.kubelet('--config=/var/lib/kubelet/config.yaml', '--kubeconfig=/etc/kubernetes/kubelet.conf');
      expect(next.stderr).not.toContain('cgroup v1');
      expect(next.stderr).toContain('invalid kubeconfig'); // got past the cgroup check
    });

    it('kubelet exits 1 without its config file, as before kubeadm has run', async () => {
      const host = await makeHost();
      const r = await host.kubelet('--config=/var/lib/kubelet/config.yaml', '--kubeconfig=/etc/kubernetes/kubelet.conf');
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('failed to load kubelet config file, path: /var/lib/kubelet/config.yaml');
    });

    it('kubelet on the init host registers with the credential init issued and exits 0 on SIGTERM', async () => {
      const { host } = await initHost();
      const kubeadmArgs = /^KUBELET_KUBEADM_ARGS="(.*)"$/m.exec(host.read('var/lib/kubelet/kubeadm-flags.env'))![1]!;
      const { child, exited } = background(KUBELET, host, [
        '--bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf', '--kubeconfig=/etc/kubernetes/kubelet.conf',
        '--config=/var/lib/kubelet/config.yaml', ...kubeadmArgs.split(' ')]);
      await until('registered', () => host.log('kubelet').some((e) => e.event === 'not-ready'));
      expect(JSON.parse(host.read('var/lib/kubelet/standin-status.json'))).toMatchObject({ pid: child.pid });
      const names = (await host.kubectl(...ADMIN, 'get', 'nodes', '-o', 'name')).stdout;
      expect(names).toBe('node/kf-standin-cp-1\n');
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(host.log('kubelet').map((e) => e.event)).toEqual(['started', 'registered', 'not-ready', 'stopped']);
    });

    it('kubelet newer than the API server refuses to run (version skew), before it registers', async () => {
      const { host } = await initHost();
      const kubeadmArgs = /^KUBELET_KUBEADM_ARGS="(.*)"$/m.exec(host.read('var/lib/kubelet/kubeadm-flags.env'))![1]!;
      // A kubelet binary baked at 1.31.1, as the Kubernetes bundle builder bakes it; the API server stays 1.30.2.
      const newer = path.join(host.root, 'kubelet-1.31.1');
      writeFileSync(newer, bakeVersion(readFileSync(KUBELET, 'utf8'), '1.31.1'), { mode: 0o755 });
      const { exited } = background(newer, host, [
        '--bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf', '--kubeconfig=/etc/kubernetes/kubelet.conf',
        '--config=/var/lib/kubelet/config.yaml', ...kubeadmArgs.split(' ')]);
      expect(await exited).toBe(1);
      const refused = host.log('kubelet').find((e) => e.event === 'version-skew-refused');
      expect(refused?.error).toContain('this kubelet is v1.31.1 but the API server is v1.30.2');
      expect(host.log('kubelet').map((e) => e.event)).not.toContain('registered');
    });

    it('crictl reads /etc/crictl.yaml, refuses a dead socket and lists images through ctr', async () => {
      const host = await makeHost();
      expect((await host.crictl('--version')).stdout).toBe('crictl version v1.30.0\n');
      host.write('etc/crictl.yaml', 'runtime-endpoint: unix:///run/containerd/containerd.sock\nimage-endpoint: unix:///run/containerd/containerd.sock\n');
      const info = JSON.parse((await host.crictl('info')).stdout);
      expect(info.status.conditions[0]).toMatchObject({ type: 'RuntimeReady', status: true });
      expect(info.status.conditions[1]).toMatchObject({ type: 'NetworkReady', status: false, reason: 'NetworkPluginNotReady',
        message: 'Network plugin returns error: cni plugin not initialized' });
      host.setImages(['registry.k8s.io/pause:3.9']);
      expect((await host.crictl('images')).stdout).toMatch(/^IMAGE +TAG +IMAGE ID +SIZE\nregistry\.k8s\.io\/pause +3\.9 +[0-9a-f]{13} +10\.0MiB\n$/);
      const dead = await host.crictl('-r', 'unix:///run/nothing.sock', 'info');
      expect(dead.code).toBe(1);
      expect(dead.stderr).toContain('validate service connection: validate CRI v1 runtime API for endpoint "unix:///run/nothing.sock": rpc error: code = Unavailable desc = connection error:');
      expect(host.log('crictl').map((e) => e.exit)).toEqual([0, 0, 0, 1]);
    });
  },
);
