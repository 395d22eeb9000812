import { describe, expect, it } from 'vitest';
import {
  checkCallbackUrl,
  isLoopbackHost,
  type AllowListPolicy,
} from '../../../src/ci/allow-list.js';

const policy = (allowList: string[], allowLoopback = false): AllowListPolicy => ({
  allowList,
  allowLoopback,
});
const allowed = (url: string, p: AllowListPolicy) => checkCallbackUrl(url, p).ok;

describe('checkCallbackUrl', () => {
  it('refuses every URL when the allow-list is empty', () => {
    expect(
      allowed(
        'https://api.github.com/repos/a/b/actions/runs/1/deployment_protection_rule',
        policy([]),
      ),
    ).toBe(false);
  });

  it('accepts a URL under an allowed prefix and refuses a sibling path', () => {
    const p = policy(['https://gitlab.example.com/api/v4/projects/12/']);
    expect(allowed('https://gitlab.example.com/api/v4/projects/12/deployments/3/approval', p)).toBe(
      true,
    );
    expect(allowed('https://gitlab.example.com/api/v4/projects/13/deployments/3/approval', p)).toBe(
      false,
    );
  });

  it('matches a prefix without trailing slash only on a segment boundary', () => {
    const p = policy(['https://gitlab.example.com/api/v4/projects/1']);
    expect(allowed('https://gitlab.example.com/api/v4/projects/1/deployments/2/approval', p)).toBe(
      true,
    );
    expect(allowed('https://gitlab.example.com/api/v4/projects/12/deployments/2/approval', p)).toBe(
      false,
    );
  });

  it('refuses a prefix match on another port or scheme', () => {
    const p = policy(['https://jenkins.example.com/']);
    expect(allowed('https://jenkins.example.com:8443/job/a/1/', p)).toBe(false);
    expect(allowed('https://jenkins.example.com:443/job/a/1/', p)).toBe(true);
  });

  it('matches an exact host pattern and its explicit port', () => {
    expect(allowed('https://dev.azure.com/org/p/_apis/x', policy(['dev.azure.com']))).toBe(true);
    expect(allowed('https://dev.azure.com:8443/x', policy(['dev.azure.com']))).toBe(false);
    expect(
      allowed('https://jenkins.internal:8443/job/a/1/', policy(['jenkins.internal:8443'])),
    ).toBe(true);
  });

  it('matches a wildcard host pattern for subdomains but not the apex or look-alikes', () => {
    const p = policy(['*.visualstudio.com']);
    expect(allowed('https://acme.visualstudio.com/x', p)).toBe(true);
    expect(allowed('https://visualstudio.com/x', p)).toBe(false);
    expect(allowed('https://evilvisualstudio.com/x', p)).toBe(false);
    expect(allowed('https://visualstudio.com.evil.net/x', p)).toBe(false);
  });

  it('refuses userinfo tricks that point the request at another host', () => {
    const p = policy(['allowed.com']);
    const verdict = checkCallbackUrl('https://allowed.com@evil.com/hook', p);
    expect(verdict).toEqual({ ok: false, reason: 'userinfo in URL' });
    expect(allowed('https://user:pw@allowed.com/hook', p)).toBe(false);
  });

  it('requires https for non-loopback hosts even when the host is listed', () => {
    expect(checkCallbackUrl('http://allowed.com/hook', policy(['allowed.com']))).toEqual({
      ok: false,
      reason: 'https required',
    });
  });

  it('refuses other schemes and unparsable input', () => {
    expect(allowed('file:///etc/passwd', policy(['allowed.com'], true))).toBe(false);
    expect(allowed('not a url', policy(['allowed.com']))).toBe(false);
  });

  it('admits loopback over http only when allowLoopback is set', () => {
    expect(allowed('http://127.0.0.1:4000/generic/x', policy([], true))).toBe(true);
    expect(allowed('http://[::1]:4000/generic/x', policy([], true))).toBe(true);
    expect(allowed('http://127.0.0.1:4000/generic/x', policy([]))).toBe(false);
  });

  it('compares against the normalised path, so dot segments cannot climb out of a prefix', () => {
    const p = policy(['https://ci.example.com/hooks/']);
    expect(allowed('https://ci.example.com/hooks/../admin', p)).toBe(false);
    expect(allowed('https://ci.example.com/hooks/%2e%2e/admin', p)).toBe(false);
  });

  it('treats host names case-insensitively', () => {
    expect(allowed('https://GitLab.Example.com/api', policy(['gitlab.example.COM']))).toBe(true);
  });
});

describe('isLoopbackHost', () => {
  it('recognises 127.0.0.0/8, ::1 and localhost but not look-alikes', () => {
    expect(isLoopbackHost('127.5.6.7')).toBe(true);
    expect(isLoopbackHost('[::1]')).toBe(true);
    expect(isLoopbackHost('localhost')).toBe(true);
    expect(isLoopbackHost('127.0.0.1.nip.io')).toBe(false);
    expect(isLoopbackHost('10.0.0.1')).toBe(false);
  });
});
