import { describe, expect, it } from 'vitest';
import { CiSchema } from '../../../src/config/ci.js';

describe('CiSchema', () => {
  it('defaults to an empty allow-list that refuses every callback', () => {
    expect(CiSchema.parse(undefined)).toEqual({
      allowList: [],
      allowLoopback: false,
      allowAddresses: [],
      timeoutMs: 10_000,
      gitlab: {},
      jenkins: {},
      azureDevops: {},
    });
  });

  it('takes an Azure DevOps api-version override and refuses one that is not a version', () => {
    expect(CiSchema.parse({ azureDevops: { apiVersion: '7.0' } }).azureDevops).toEqual({
      apiVersion: '7.0',
    });
    expect(() => CiSchema.parse({ azureDevops: { apiVersion: 'latest' } })).toThrow(
      /must look like 7.0 or 7.0-preview.1/,
    );
  });

  it('lower-cases host keys and trims the GitHub apiUrl', () => {
    const ci = CiSchema.parse({
      gitlab: { 'GitLab.Example.com': { token: 't' } },
      github: {
        appId: 12,
        privateKey: '-----BEGIN RSA PRIVATE KEY-----\n…',
        apiUrl: 'https://ghe.x/api/v3/',
      },
    });
    expect(Object.keys(ci.gitlab)).toEqual(['gitlab.example.com']);
    expect(ci.github).toMatchObject({ appId: '12', apiUrl: 'https://ghe.x/api/v3' });
  });

  it('names the bad allow-list entry', () => {
    const result = CiSchema.safeParse({ allowList: ['ok.example.com', 'https://u:p@x.com/'] });
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.path).toEqual(['allowList', 1]);
  });
});
