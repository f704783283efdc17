// Tests of the kubeadm/kubelet STAND-INS (not the real tools): run the Python scripts against a
// throw-away root directory (KUBEADM_STANDIN_ROOT) holding a live unix socket as the CRI socket,
// and check what they accept, refuse, print, write and log.
import { describe, it, expect, afterEach } from 'vitest';
import { execFile, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync,
} from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';

const here = path.dirname(fileURLToPath(import.meta.url));
const KUBEADM = path.join(here, 'kubeadm');
const KUBELET = path.join(here, 'kubelet');

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
  describe('kubeadm/kubelet stand-ins', () => {
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
  kubeadm(...args: string[]): Promise<Result>;
  kubelet(...args: string[]): Promise<Result>;
  write(file: string, content: string): void;
  read(file: string): string;
  has(file: string): boolean;
  mode(file: string): number;
  log(tool: 'kubeadm' | 'kubelet'): Array<Record<string, unknown>>;
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

function runTool(tool: string, root: string, args: string[]): Promise<Result> {
  return new Promise((resolve) => {
    execFile(tool, args, { env: { ...process.env, KUBEADM_STANDIN_ROOT: root }, timeout: 10_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : null) : 0;
        resolve({ code, stdout, stderr });
      });
  });
}

/** A root directory shaped like a test host: baked version, ip_forward=1, containerd's socket live. */
async function makeHost(version = 'v1.30.2'): Promise<TestHost> {
  const root = mkdtempSync(path.join(os.tmpdir(), 'kf-standin-'));
  const abs = (file: string) => path.join(root, file);
  const write = (file: string, content: string) => {
    mkdirSync(path.dirname(abs(file)), { recursive: true });
    writeFileSync(abs(file), content);
  };
  write('usr/local/share/kubeforge-standin/kubernetes-version', `${version}\n`);
  write('proc/sys/net/ipv4/ip_forward', '1\n');
  mkdirSync(abs('run/containerd'), { recursive: true });
  mkdirSync(abs('var'), { recursive: true });
  symlinkSync('../run', abs('var/run')); // as on Debian, where /var/run -> /run
  const server = net.createServer((conn) => conn.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(abs('run/containerd/containerd.sock'), resolve);
  });
  cleanups.push(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    rmSync(root, { recursive: true, force: true });
  });
  return {
    root,
    kubeadm: (...args) => runTool(KUBEADM, root, args),
    kubelet: (...args) => runTool(KUBELET, root, args),
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

const INIT_V1BETA3 = `apiVersion: kubeadm.k8s.io/v1beta3
kind: InitConfiguration
bootstrapTokens:
- token: abcdef.0123456789abcdef
  ttl: 2h
localAPIEndpoint:
  advertiseAddress: 10.0.0.10
  bindPort: 6443
nodeRegistration:
  name: kf-standin-cp-1
  criSocket: unix:///run/containerd/containerd.sock
  kubeletExtraArgs:
    node-ip: 10.0.0.10
---
apiVersion: kubeadm.k8s.io/v1beta3
kind: ClusterConfiguration
clusterName: kubeforge-test
kubernetesVersion: v1.30.2
controlPlaneEndpoint: 10.0.0.10:6443
networking:
  podSubnet: 10.244.0.0/16
---
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
cgroupDriver: systemd
`;

const INIT_V1BETA4 = `apiVersion: kubeadm.k8s.io/v1beta4
kind: InitConfiguration
localAPIEndpoint:
  advertiseAddress: 10.0.0.10
nodeRegistration:
  criSocket: unix:///run/containerd/containerd.sock
  kubeletExtraArgs:
  - name: node-ip
    value: 10.0.0.10
`;

const HASH = `sha256:${'ab'.repeat(32)}`;
const JOIN_V1BETA3 = `apiVersion: kubeadm.k8s.io/v1beta3
kind: JoinConfiguration
discovery:
  bootstrapToken:
    apiServerEndpoint: 10.0.0.10:6443
    token: abcdef.0123456789abcdef
    caCertHashes: ["${HASH}"]
nodeRegistration:
  name: kf-standin-worker-1
  criSocket: unix:///run/containerd/containerd.sock
`;

const CONFIG = '/etc/kubeforge/kubeadm.yaml';

async function initHost(): Promise<{ host: TestHost; init: Result }> {
  const host = await makeHost();
  host.write(CONFIG, INIT_V1BETA3);
  const init = await host.kubeadm('init', '--config', CONFIG, '--upload-certs');
  return { host, init };
}

function lastEntry(entries: Array<Record<string, unknown>>): Record<string, unknown> {
  expect(entries.length).toBeGreaterThan(0);
  return entries[entries.length - 1]!;
}

describe.skipIf(missing !== undefined)(
  `kubeadm/kubelet stand-ins${missing ? ` (skipped: ${missing})` : ''}`,
  () => {
    it('kubeadm version -o short prints the baked version', async () => {
      const host = await makeHost('v1.31.4');
      expect(await host.kubeadm('version', '-o', 'short')).toEqual({ code: 0, stdout: 'v1.31.4\n', stderr: '' });
      expect((await host.kubeadm('version', '-o=short')).stdout).toBe('v1.31.4\n');
    });

    it('init with a valid v1beta3 config prints token and CA hash, writes admin.conf 0600 and logs the call', async () => {
      const { host, init } = await initHost();
      expect(init.stderr).toBe('');
      expect(init.code).toBe(0);

      const caHash = `sha256:${createHash('sha256').update(host.read('etc/kubernetes/pki/ca.crt')).digest('hex')}`;
      const key = /\[upload-certs\] Using certificate key:\n([0-9a-f]{64})\n/.exec(init.stdout)?.[1];
      expect(key).toBeDefined();
      expect(init.stdout).toContain('[init] Using Kubernetes version: v1.30.2\n');
      expect(init.stdout).toContain('Your Kubernetes control-plane has initialized successfully!\n');
      expect(init.stdout).toContain(
        'You can now join any number of the control-plane node running the following command on each as root:\n\n'
        + `  kubeadm join 10.0.0.10:6443 --token abcdef.0123456789abcdef \\\n`
        + `\t--discovery-token-ca-cert-hash ${caHash} \\\n`
        + `\t--control-plane --certificate-key ${key}\n`,
      );
      expect(init.stdout.endsWith(
        'Then you can join any number of worker nodes by running the following on each as root:\n\n'
        + `kubeadm join 10.0.0.10:6443 --token abcdef.0123456789abcdef \\\n`
        + `\t--discovery-token-ca-cert-hash ${caHash} \n`,
      )).toBe(true);

      expect(host.mode('etc/kubernetes/admin.conf')).toBe(0o600);
      const admin = parseYaml(host.read('etc/kubernetes/admin.conf')) as Record<string, any>;
      expect(admin.kind).toBe('Config');
      expect(admin.clusters[0].cluster.server).toBe('https://10.0.0.10:6443');
      expect(admin['current-context']).toBe('kubernetes-admin@kubeforge-test');
      expect(Buffer.from(admin.clusters[0].cluster['certificate-authority-data'], 'base64').toString())
        .toBe(host.read('etc/kubernetes/pki/ca.crt'));
      expect(host.read('etc/kubernetes/pki/ca.crt')).toMatch(/^-----BEGIN CERTIFICATE-----\n/);
      expect(host.mode('etc/kubernetes/super-admin.conf')).toBe(0o600); // 1.29 and later
      for (const m of ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'etcd']) {
        expect(host.has(`etc/kubernetes/manifests/${m}.yaml`)).toBe(true);
      }
      expect(host.read('var/lib/kubelet/kubeadm-flags.env')).toBe(
        'KUBELET_KUBEADM_ARGS="--container-runtime-endpoint=unix:///run/containerd/containerd.sock '
        + '--hostname-override=kf-standin-cp-1 --node-ip=10.0.0.10 '
        + '--pod-infra-container-image=registry.k8s.io/pause:3.9"\n',
      );
      expect((parseYaml(host.read('var/lib/kubelet/config.yaml')) as Record<string, unknown>).cgroupDriver).toBe('systemd');

      expect(host.mode('var/log/kubeadm-standin.log')).toBe(0o600);
      const entry = lastEntry(host.log('kubeadm'));
      expect(entry.argv).toEqual(['init', '--config', CONFIG, '--upload-certs']);
      expect(entry.exit).toBe(0);
      expect(entry.result).toMatchObject({ token: 'abcdef.0123456789abcdef', caCertHash: caHash, certificateKey: key });
      expect((entry.configDocuments as Array<Record<string, unknown>>).map((d) => d.kind))
        .toEqual(['InitConfiguration', 'ClusterConfiguration', 'KubeletConfiguration']);
    });

    it('init refuses v1beta4 below Kubernetes 1.31 and accepts it from 1.31 with list-shaped extra args', async () => {
      const old = await makeHost('v1.30.2');
      old.write(CONFIG, INIT_V1BETA4);
      const refused = await old.kubeadm('init', '--config', CONFIG);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain('no kind "InitConfiguration" is registered for version "kubeadm.k8s.io/v1beta4"');
      expect(old.has('etc/kubernetes/admin.conf')).toBe(false);

      const current = await makeHost('v1.31.0');
      current.write(CONFIG, INIT_V1BETA4);
      const accepted = await current.kubeadm('init', '--config', CONFIG);
      expect(accepted.stderr).toBe('');
      expect(accepted.code).toBe(0);
      expect(current.read('var/lib/kubelet/kubeadm-flags.env')).toContain('--node-ip=10.0.0.10');

      const mapShaped = await makeHost('v1.31.0');
      mapShaped.write(CONFIG, INIT_V1BETA4.replace('  - name: node-ip\n    value: 10.0.0.10\n', '    node-ip: 10.0.0.10\n'));
      const wrongShape = await mapShaped.kubeadm('init', '--config', CONFIG);
      expect(wrongShape.code).toBe(1);
      expect(wrongShape.stderr).toContain(
        'cannot unmarshal object into Go struct field nodeRegistration.kubeletExtraArgs of type []v1beta4.Arg');
    });

    it('init refuses a config with an unknown field and names the field', async () => {
      const host = await makeHost();
      host.write(CONFIG, INIT_V1BETA3.replace('  name: kf-standin-cp-1\n', '  name: kf-standin-cp-1\n  foo: bar\n'));
      const r = await host.kubeadm('init', '--config', CONFIG);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('strict decoding error: unknown field "nodeRegistration.foo"');
      expect(host.has('etc/kubernetes/admin.conf')).toBe(false);
      expect(lastEntry(host.log('kubeadm')).exit).toBe(1);
    });

    it('init refuses a CRI socket nobody listens on, as the CRI preflight check', async () => {
      const host = await makeHost();
      host.write(CONFIG, INIT_V1BETA3.replace('unix:///run/containerd/containerd.sock', 'unix:///run/nothing/here.sock'));
      const r = await host.kubeadm('init', '--config', CONFIG);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('error execution phase preflight: [preflight] Some fatal errors occurred:\n');
      expect(r.stderr).toContain('\t[ERROR CRI]: container runtime is not running: ');
      expect(r.stderr).toContain('dial unix /run/nothing/here.sock: connect: no such file or directory');
      expect(host.has('etc/kubernetes/admin.conf')).toBe(false);
    });

    it('kubeadm refuses unknown flags and commands like cobra does', async () => {
      const host = await makeHost();
      const flag = await host.kubeadm('init', '--config', CONFIG, '--foo');
      expect(flag).toEqual({
        code: 1,
        stdout: '',
        stderr: 'unknown flag: --foo\nTo see the stack trace of this error execute with --v=5 or higher\n',
      });
      const command = await host.kubeadm('frobnicate');
      expect(command.code).toBe(1);
      expect(command.stderr).toContain('unknown command "frobnicate" for "kubeadm"');
      expect(host.log('kubeadm').map((e) => e.exit)).toEqual([1, 1]);
    });

    it('token create --print-join-command after init prints one join line with the init CA hash', async () => {
      const { host, init } = await initHost();
      const initHash = /--discovery-token-ca-cert-hash (sha256:[0-9a-f]{64})/.exec(init.stdout)?.[1];
      expect(initHash).toBeDefined();

      const r = await host.kubeadm('token', 'create', '--print-join-command', '--ttl', '1h');
      expect(r.code).toBe(0);
      const m = /^kubeadm join 10\.0\.0\.10:6443 --token ([a-z0-9]{6}\.[a-z0-9]{16}) --discovery-token-ca-cert-hash (sha256:[0-9a-f]{64}) \n$/
        .exec(r.stdout);
      expect(m, r.stdout).not.toBeNull();
      expect(m![1]).not.toBe('abcdef.0123456789abcdef');
      expect(m![2]).toBe(initHash);

      const key = 'c'.repeat(64);
      const cp = await host.kubeadm('token', 'create', '--print-join-command', '--certificate-key', key);
      expect(cp.stdout).toMatch(new RegExp(` --discovery-token-ca-cert-hash ${initHash} --control-plane --certificate-key ${key}\n$`));

      const uploaded = await host.kubeadm('init', 'phase', 'upload-certs', '--upload-certs');
      expect(uploaded.stdout).toMatch(
        /^\[upload-certs\] Storing the certificates in Secret "kubeadm-certs" in the "kube-system" Namespace\n\[upload-certs\] Using certificate key:\n[0-9a-f]{64}\n$/);
    });

    it('token create and upload-certs fail on a host that never ran init', async () => {
      const host = await makeHost();
      const token = await host.kubeadm('token', 'create', '--print-join-command');
      expect(token.code).toBe(1);
      expect(token.stderr).toContain('failed to load admin kubeconfig');
      expect((await host.kubeadm('init', 'phase', 'upload-certs', '--upload-certs')).code).toBe(1);
    });

    it('join with a valid JoinConfiguration writes kubelet.conf and the kubelet files', async () => {
      const host = await makeHost();
      host.write(CONFIG, JOIN_V1BETA3);
      const r = await host.kubeadm('join', '--config', CONFIG);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).toContain('This node has joined the cluster:\n');
      expect(host.mode('etc/kubernetes/kubelet.conf')).toBe(0o600);
      const kubelet = parseYaml(host.read('etc/kubernetes/kubelet.conf')) as Record<string, any>;
      expect(kubelet.clusters[0].cluster.server).toBe('https://10.0.0.10:6443');
      expect(host.read('var/lib/kubelet/kubeadm-flags.env')).toContain('--hostname-override=kf-standin-worker-1');
      expect(host.has('var/lib/kubelet/config.yaml')).toBe(true);
      expect(host.has('etc/kubernetes/admin.conf')).toBe(false); // workers get no admin credentials
      expect(lastEntry(host.log('kubeadm')).result).toMatchObject({ token: 'abcdef.0123456789abcdef', caCertHashes: [HASH] });

      const again = await host.kubeadm('join', '--config', CONFIG);
      expect(again.code).toBe(1);
      expect(again.stderr).toContain(
        '[ERROR FileAvailable--etc-kubernetes-kubelet.conf]: /etc/kubernetes/kubelet.conf already exists');
    });

    it('join refuses a malformed token and hash, and a control-plane join without a certificate key', async () => {
      const host = await makeHost();
      const bad = await host.kubeadm('join', '10.0.0.10:6443', '--token', 'ABC', '--discovery-token-ca-cert-hash', 'md5:aa');
      expect(bad.code).toBe(1);
      expect(bad.stderr).toContain('the bootstrap token "ABC" was not of the form');
      expect(bad.stderr).toContain('unknown hash format "md5"');
      const noKey = await host.kubeadm('join', '10.0.0.10:6443', '--token', 'abcdef.0123456789abcdef',
        '--discovery-token-ca-cert-hash', HASH, '--control-plane');
      expect(noKey.code).toBe(1);
      expect(host.has('etc/kubernetes/kubelet.conf')).toBe(false);
    });

    it('a second init fails preflight because the manifests exist', async () => {
      const { host, init } = await initHost();
      expect(init.code).toBe(0);
      const again = await host.kubeadm('init', '--config', CONFIG);
      expect(again.code).toBe(1);
      expect(again.stderr).toContain(
        '\t[ERROR FileAvailable--etc-kubernetes-manifests-kube-apiserver.yaml]: '
        + '/etc/kubernetes/manifests/kube-apiserver.yaml already exists\n');
    });

    it('reset -f removes what init wrote, so init can run again', async () => {
      const { host } = await initHost();
      const reset = await host.kubeadm('reset', '-f');
      expect(reset.code).toBe(0);
      for (const file of ['etc/kubernetes/admin.conf', 'etc/kubernetes/kubelet.conf', 'etc/kubernetes/pki/ca.crt',
        'etc/kubernetes/manifests/kube-apiserver.yaml', 'var/lib/kubelet/config.yaml',
        'var/lib/kubelet/kubeadm-flags.env', 'var/lib/kubeadm-standin/state.json']) {
        expect(host.has(file), file).toBe(false);
      }
      expect((await host.kubeadm('init', '--config', CONFIG)).code).toBe(0);
    });

    it('kubelet refuses --container-runtime=remote (removed in 1.27) and unknown flags', async () => {
      const host = await makeHost();
      const r = await host.kubelet('--container-runtime=remote');
      expect(r).toEqual({ code: 1, stdout: '', stderr: 'Error: failed to parse kubelet flag: unknown flag: --container-runtime\n' });
      expect(lastEntry(host.log('kubelet')).exit).toBe(1);

      const newer = await makeHost('v1.35.0');
      const pause = await newer.kubelet('--pod-infra-container-image=registry.k8s.io/pause:3.10');
      expect(pause.stderr).toBe('Error: failed to parse kubelet flag: unknown flag: --pod-infra-container-image\n');
      expect((await newer.kubelet('--version')).stdout).toBe('Kubernetes v1.35.0\n');
    });

    it('kubelet exits 1 without its config file, as before kubeadm has run', async () => {
      const host = await makeHost();
      const r = await host.kubelet('--config=/var/lib/kubelet/config.yaml', '--kubeconfig=/etc/kubernetes/kubelet.conf');
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('failed to load kubelet config file, path: /var/lib/kubelet/config.yaml');
      expect(r.stderr).toContain('no such file or directory');
    });

    it('kubelet started with kubeadm\'s flags after init stays running, reports status and exits 0 on SIGTERM', async () => {
      const { host } = await initHost();
      const kubeadmArgs = /^KUBELET_KUBEADM_ARGS="(.*)"$/m.exec(host.read('var/lib/kubelet/kubeadm-flags.env'))![1]!;
      const child = spawn(KUBELET, [
        '--bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf', '--kubeconfig=/etc/kubernetes/kubelet.conf',
        '--config=/var/lib/kubelet/config.yaml', ...kubeadmArgs.split(' '),
      ], { env: { ...process.env, KUBEADM_STANDIN_ROOT: host.root }, stdio: 'ignore' });
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      cleanups.unshift(async () => { child.kill('SIGKILL'); });

      const status = 'var/lib/kubelet/standin-status.json';
      for (let i = 0; i < 100 && !host.has(status); i++) await new Promise((r) => setTimeout(r, 50));
      expect(JSON.parse(host.read(status))).toMatchObject({
        pid: child.pid,
        runtimeEndpoint: 'unix:///run/containerd/containerd.sock',
        cgroupDriver: 'systemd',
      });
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(host.log('kubelet').map((e) => e.event)).toEqual(['started', 'stopped']);
    });
  },
);
