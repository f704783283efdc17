import { describe, expect, it } from 'vitest';
import { HOST_PATH, mirrorUrlProblem } from './host-values.js';
import { inventorySchema } from './schema.js';

/** The strings the injection tests feed into every field (test/e2e/injection.test.ts uses the same kinds). */
const HOSTILE = [
  "it's",
  'say "hi"',
  '$(touch /tmp/pwned-u1)',
  '`touch /tmp/pwned-u2`',
  'a; touch /tmp/pwned-u3',
  'a\ntouch /tmp/pwned-u4',
  'a b',
  'a && touch /tmp/pwned-u5 | cat > /tmp/pwned-u6',
];

function baseInventory(): Record<string, any> {
  return {
    cluster: { name: 'demo' },
    kubernetes: { version: '1.30.2' },
    containerd: { bundle: 'containerd-1.7.20-linux-amd64.tar.gz' },
    hosts: [{ name: 'cp1', address: '10.0.0.10', role: 'control-plane' }],
  };
}

/** Every field whose value reaches a host (a command, a path, a rendered file), and how to set it. */
const FIELDS: Record<string, (inv: Record<string, any>, value: string) => void> = {
  'cluster.name': (inv, v) => (inv.cluster.name = v),
  'hosts[0].name': (inv, v) => (inv.hosts[0].name = v),
  'hosts[0].address': (inv, v) => (inv.hosts[0].address = v),
  'hosts[0].internalAddress': (inv, v) => (inv.hosts[0].internalAddress = v),
  'hosts[0].labels key': (inv, v) => (inv.hosts[0].labels = { [v]: 'a' }),
  'hosts[0].labels value': (inv, v) => (inv.hosts[0].labels = { zone: v }),
  'ssh.user': (inv, v) => (inv.ssh = { user: v }),
  'kubernetes.version': (inv, v) => (inv.kubernetes.version = `1.30.2${v}`),
  'kubernetes.controlPlaneEndpoint': (inv, v) => (inv.kubernetes.controlPlaneEndpoint = `10.0.0.10:6443${v}`),
  'kubernetes.clusterDomain': (inv, v) => (inv.kubernetes.clusterDomain = v),
  'kubernetes.podSubnet': (inv, v) => (inv.kubernetes.podSubnet = `10.244.0.0/16${v}`),
  'containerd.version': (inv, v) => (inv.containerd.version = `1.7.20${v}`),
  'containerd.socket': (inv, v) => (inv.containerd.socket = `/run/containerd/${v}.sock`),
  'containerd.registryConfigPath': (inv, v) => (inv.containerd.registryConfigPath = `/etc/containerd/${v}`),
  'containerd.sandboxImage': (inv, v) => (inv.containerd.sandboxImage = `registry.k8s.io/pause:3.10${v}`),
  'containerd.registryMirrors key': (inv, v) => (inv.containerd.registryMirrors = { [v]: ['https://mirror.example.com'] }),
};

describe('inventory values that reach a host', () => {
  for (const [field, set] of Object.entries(FIELDS)) {
    it(`${field} refuses quotes, $(), backticks, ;, newlines and spaces`, () => {
      for (const value of HOSTILE) {
        const inv = baseInventory();
        set(inv, value);
        expect(inventorySchema.safeParse(inv).success, `${field} = ${JSON.stringify(value)}`).toBe(false);
      }
    });
  }

  it('the same fields accept ordinary values (so the refusals above are about the characters)', () => {
    const inv = baseInventory();
    inv.hosts[0].internalAddress = '10.0.0.20';
    inv.hosts[0].labels = { 'topology.kubernetes.io/zone': 'eu-west-1' };
    inv.ssh = { user: 'deploy.user-1' };
    inv.kubernetes.controlPlaneEndpoint = 'api.example.com:6443';
    inv.containerd.socket = '/run/containerd/containerd.sock';
    inv.containerd.registryConfigPath = '/etc/containerd/certs.d';
    inv.containerd.sandboxImage = 'registry.example.com:5000/pause@sha256:' + 'a'.repeat(64);
    inv.containerd.registryMirrors = { 'docker.io': ['https://mirror.example.com/v2/'], _default: ['http://10.0.0.5:5000'] };
    const parsed = inventorySchema.safeParse(inv);
    expect(parsed.error?.issues ?? []).toEqual([]);
  });

  it('explains a path with unsafe characters, and still calls a relative path relative', () => {
    const inv = baseInventory();
    inv.containerd.socket = '/run/containerd/x; touch /tmp/pwned';
    inv.containerd.registryConfigPath = 'etc/containerd/certs.d';
    const messages = inventorySchema.safeParse(inv).error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    expect(messages).toEqual([
      'containerd.socket: "/run/containerd/x; touch /tmp/pwned" holds characters a path on the hosts may not hold: use only letters, digits and "/", ".", "_", "-", "+", "@"',
      'containerd.registryConfigPath: "etc/containerd/certs.d" is not an absolute path (starting with /)',
    ]);
  });
});

describe('HOST_PATH', () => {
  it('is an absolute path of characters that need no quoting', () => {
    for (const ok of ['/run/containerd/containerd.sock', '/etc/containerd/certs.d', '/var/run/k3s+x/a@b_c-d']) expect(HOST_PATH.test(ok), ok).toBe(true);
    for (const bad of ['/', 'a/b', '/a b', "/a'b", '/a"b', '/a$b', '/a`b', '/a;b', '/a\nb', '/a\\b', '/a*b', '/a~b']) expect(HOST_PATH.test(bad), bad).toBe(false);
  });
});

describe('mirrorUrlProblem', () => {
  it('accepts http(s) URLs with a host, port and path', () => {
    for (const ok of ['https://mirror.example.com', 'http://10.0.0.5:5000', 'https://[fd00::5]:5000/v2/', 'https://m.example.com/a%20b']) {
      expect(mirrorUrlProblem(ok), ok).toBeUndefined();
    }
  });

  it('leaves texts that are not http(s) URLs to the scheme check', () => {
    expect(mirrorUrlProblem('mirror.example.com')).toBeUndefined();
    expect(mirrorUrlProblem('ftp://mirror.example.com')).toBeUndefined();
  });

  it('refuses characters a URL cannot hold as written, which URL parsers silently drop or encode', () => {
    for (const bad of ['https://m.example.com/a b', 'https://m.example.com/"x"', 'https://m.example.com/`id`', 'https://m.example.com/a\nb', 'https://m.example.com/a\\b', 'https://m.example.com/{x}']) {
      expect(mirrorUrlProblem(bad), JSON.stringify(bad)).toMatch(/^holds a character no URL may hold/);
    }
  });

  it('refuses credentials in the URL: they would be written into a 0644 file and shown in logs', () => {
    expect(mirrorUrlProblem('https://user:hunter2@mirror.example.com')).toMatch(/^carries a user name or password/);
    expect(mirrorUrlProblem('https://user@mirror.example.com')).toMatch(/^carries a user name or password/);
  });

  it("accepts RFC 3986 sub-delimiters such as ' $ ( ) ; which reach hosts only TOML-encoded inside hosts.toml", () => {
    expect(mirrorUrlProblem("https://m.example.com/v2/'$(touch$IFS/tmp/pwned)';x")).toBeUndefined();
  });

  it('refuses a URL without a host', () => {
    expect(mirrorUrlProblem('http://')).toBeDefined();
  });
});
