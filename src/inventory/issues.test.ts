import { describe, expect, it } from 'vitest';
import { problemsFromIssues } from './issues.js';
import { inventorySchema } from './schema.js';
import type { Problem } from './problem.js';

const valid = () => ({
  cluster: { name: 'demo' },
  kubernetes: { version: '1.30.2' },
  containerd: { bundle: 'bundles/containerd-1.7.20-linux-amd64.tar.gz' },
  hosts: [{ name: 'cp1', address: '10.0.0.10', role: 'control-plane' }],
});

function problems(input: unknown, sources: Record<string, string> = {}): Problem[] {
  const result = inventorySchema.safeParse(input, { reportInput: true });
  if (result.success) return [];
  return problemsFromIssues(result.error.issues, {
    root: inventorySchema,
    input,
    sourceAt: (path) => sources[path.join('.')],
  });
}

describe('problemsFromIssues', () => {
  it('accepts a minimal valid inventory', () => {
    expect(problems(valid())).toEqual([]);
  });

  it('reports a missing key on its parent, with the field docs as hint', () => {
    const input = valid();
    delete (input.hosts[0] as Partial<(typeof input.hosts)[0]>).address;
    expect(problems(input)).toEqual([
      {
        path: ['hosts', 0],
        at: 'key',
        message: 'hosts[0]: missing required key "address"',
        hint: 'address: Address kubeforge reaches the host at over SSH: IPv4, IPv6 or DNS name. Example: address: 10.0.0.10',
      },
    ]);
  });

  it('reports each unknown key at the key, with a suggestion and the allowed keys', () => {
    const input = { ...valid(), hosts: [{ ...valid().hosts[0], adress: 'x', zone: 'a' }] };
    const found = problems(input);
    expect(found.map((p) => [p.path, p.at, p.message])).toEqual([
      [['hosts', 0, 'adress'], 'key', 'hosts[0]: unknown key "adress" (did you mean "address"?)'],
      [['hosts', 0, 'zone'], 'key', 'hosts[0]: unknown key "zone"'],
    ]);
    expect(found[1]!.hint).toBe('keys allowed here: name, address, role, internalAddress, labels, ssh');
  });

  it('points a written-out secret to the field that names its variable', () => {
    const [problem] = problems({ ...valid(), ssh: { password: 'hunter2' } });
    expect(problem!.message).toBe('ssh: unknown key "password" (did you mean "passwordEnv"?)');
    expect(problem!.hint).toMatch(/^secrets are never written in the inventory/);
  });

  it('says what YAML made of an unquoted value, and suggests quotes only when they would help', () => {
    const labels = problems(
      { ...valid(), hosts: [{ ...valid().hosts[0], labels: { gpu: true } }] },
      { 'hosts.0.labels.gpu': 'true' },
    );
    expect(labels[0]!.message).toBe('hosts[0].labels.gpu: expected a string, got the boolean true');
    expect(labels[0]!.hint).toBe('YAML reads true as the boolean true; put it in quotes: "true"');

    const version = problems({ ...valid(), kubernetes: { version: 1.3 } }, { 'kubernetes.version': '1.30' });
    expect(version[0]!.message).toBe("kubernetes.version: expected a string, got the number 1.3 (YAML's reading of 1.30)");
    // "1.30" is not X.Y.Z either, so the hint shows the right form instead of quotes.
    expect(version[0]!.hint).toBe('version: Kubernetes version to install, X.Y.Z. Example: version: 1.30.2');
  });

  it('reports an empty section as empty', () => {
    const [problem] = problems({ ...valid(), ssh: null });
    expect(problem!.message).toBe('ssh: is empty; expected a mapping (key: value lines)');
    expect(problem!.hint).toMatch(/^fill it in or remove the key/);
  });

  it('suggests the enum value that was meant', () => {
    const [problem] = problems({ ...valid(), hosts: [{ ...valid().hosts[0], role: 'controlplane' }] });
    expect(problem!.message).toBe('hosts[0].role: "controlplane" is not one of control-plane, worker (did you mean "control-plane"?)');
  });

  it("uses the schema's own messages for formats and ranges", () => {
    const found = problems({ ...valid(), ssh: { port: 70000, connectTimeout: '0s', keepaliveInterval: '5 s' } });
    expect(found.map((p) => p.message)).toEqual([
      'ssh.port: 70000 is not a port number (1 to 65535)',
      'ssh.connectTimeout: must be longer than 0',
      'ssh.keepaliveInterval: "5 s" is not a duration such as 10s, 2m, 1m30s or 500ms',
    ]);
  });

  it('reports an invalid record key at the key', () => {
    const [problem] = problems({ ...valid(), hosts: [{ ...valid().hosts[0], labels: { 'bad key': 'a' } }] });
    expect(problem).toMatchObject({ path: ['hosts', 0, 'labels', 'bad key'], at: 'key' });
    expect(problem!.message).toMatch(/^hosts\[0\]\.labels: label key "bad key" is invalid/);
  });

  it('reports inside the union option the value was meant for', () => {
    const found = problems({ ...valid(), containerd: { bundle: { url: 'https://example.com/c.tgz' } } });
    expect(found.map((p) => p.message)).toEqual(['containerd.bundle: missing required key "sha256"']);
    const wrongShape = problems({ ...valid(), containerd: { bundle: 42 } });
    expect(wrongShape.map((p) => p.message)).toEqual(['containerd.bundle: 42 is not a bundle: write a file path, or {url, sha256}']);
  });

  it('reports a missing bundle as a missing key on its parent', () => {
    const found = problems({ ...valid(), network: {} });
    expect(found).toMatchObject([{ path: ['network'], at: 'key', message: 'network: missing required key "manifest"' }]);
    expect(found[0]!.hint).toMatch(/network add-on manifest/);
  });

  it('gives every problem a hint', () => {
    const messy = { cluster: 'x', kubernetes: [], containerd: { bundle: '' }, hosts: ['cp1', { name: 1 }], extra: 1 };
    const found = problems(messy);
    expect(found.length).toBeGreaterThan(4);
    for (const p of found) expect(p.hint, p.message).toMatch(/\S/);
  });
});
