import { describe, expect, it } from 'vitest';
import { bundleUrlProblem, redactUrl, urlCredentials } from './url-credentials.js';

describe('urlCredentials', () => {
  it('finds a user name or password before the host', () => {
    expect(urlCredentials('https://user:hunter2@files.example.com/containerd.tgz')).toEqual(['a user name or password']);
    expect(urlCredentials('https://ghp_abc@files.example.com/containerd.tgz')).toEqual(['a user name or password']);
  });

  it('finds tokens and signatures in the query, by parameter name', () => {
    expect(urlCredentials('https://s3.example.com/b/k.tgz?X-Amz-Algorithm=AWS4&X-Amz-Credential=AK%2F1&X-Amz-Signature=ab12')).toEqual([
      'a token or signature in its query (X-Amz-Credential=, X-Amz-Signature=)',
    ]);
    expect(urlCredentials('https://x.example/f?access_token=1')).toHaveLength(1);
    expect(urlCredentials('https://x.example/f?token=1')).toHaveLength(1);
    expect(urlCredentials('https://blob.example/f?sv=2020&sig=abc')).toHaveLength(1);
    expect(urlCredentials('https://x.example/f?api-key=1')).toHaveLength(1);
  });

  it('leaves ordinary URLs alone', () => {
    expect(urlCredentials('https://github.com/containerd/containerd/releases/download/v1.7.20/containerd-1.7.20-linux-amd64.tar.gz')).toEqual([]);
    expect(urlCredentials('https://mirror.example/f.tgz?version=1.7.20&arch=amd64&monkey=1')).toEqual([]);
  });
});

describe('redactUrl', () => {
  it('never shows the secret parts', () => {
    const shown = redactUrl('https://user:hunter2@files.example.com/a.tgz?X-Amz-Signature=deadbeef&arch=amd64');
    expect(shown).toBe('https://***@files.example.com/a.tgz?X-Amz-Signature=***&arch=amd64');
    expect(shown).not.toContain('hunter2');
    expect(shown).not.toContain('deadbeef');
  });
});

describe('bundleUrlProblem', () => {
  it('says what to do instead: tokenEnv, or a local file', () => {
    const problem = bundleUrlProblem('https://user:pw@files.example.com/a.tgz')!;
    expect(problem).toMatch(/^carries a user name or password; credentials do not belong in the inventory/);
    expect(problem).toContain('tokenEnv');
    expect(problem).not.toContain('pw@');
  });

  it('takes a plain https or http URL and refuses other schemes', () => {
    expect(bundleUrlProblem('https://files.example.com/a.tgz')).toBeUndefined();
    expect(bundleUrlProblem('http://10.0.0.1:8080/a.tgz')).toBeUndefined();
    expect(bundleUrlProblem('ftp://files.example.com/a.tgz')).toBe('is not an http:// or https:// URL');
    expect(bundleUrlProblem('not a url')).toBe('is not an http:// or https:// URL');
  });
});
