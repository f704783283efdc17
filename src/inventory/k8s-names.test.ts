import { describe, expect, it } from 'vitest';
import { DNS1123_LABEL, DNS1123_SUBDOMAIN, labelKeyProblem, labelValueProblem } from './k8s-names.js';

describe('DNS-1123 names', () => {
  it('labels: lowercase alphanumerics and "-", at most 63', () => {
    for (const ok of ['cp1', 'worker-1', 'a', 'a'.repeat(63)]) expect(DNS1123_LABEL.test(ok), ok).toBe(true);
    for (const bad of ['Cp1', 'worker_1', '-a', 'a-', 'a.b', '', 'a'.repeat(64)]) expect(DNS1123_LABEL.test(bad), bad).toBe(false);
  });

  it('subdomains: dot-separated labels', () => {
    expect(DNS1123_SUBDOMAIN.test('cluster.local')).toBe(true);
    expect(DNS1123_SUBDOMAIN.test('Cluster.local')).toBe(false);
    expect(DNS1123_SUBDOMAIN.test('cluster..local')).toBe(false);
  });
});

describe('label syntax', () => {
  it('accepts Kubernetes label keys with and without a prefix', () => {
    for (const ok of ['zone', 'topology.kubernetes.io/zone', 'node.example.com/gpu_type', 'A.b-c_d']) expect(labelKeyProblem(ok), ok).toBeUndefined();
  });

  it('explains what is wrong with a key', () => {
    expect(labelKeyProblem('-zone')).toMatch(/^it must be at most 63/);
    expect(labelKeyProblem('Example.com/zone')).toMatch(/prefix "Example.com" must be a DNS subdomain/);
    expect(labelKeyProblem('example.com/')).toMatch(/name part "" must be/);
    expect(labelKeyProblem('a'.repeat(64))).toMatch(/at most 63/);
  });

  it('accepts empty and simple values, rejects spaces and edges', () => {
    for (const ok of ['', 'a', 'eu-west-1', 'v1.2_3']) expect(labelValueProblem(ok), ok).toBeUndefined();
    for (const bad of ['eu west', '-a', 'a.', 'a/b', 'x'.repeat(64)]) expect(labelValueProblem(bad), bad).toMatch(/must be empty or/);
  });
});
