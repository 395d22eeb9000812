import { describe, expect, it } from 'vitest';
import { UpstreamError } from '../../../src/errors.js';
import { ServiceNowError, fixFor, kindForStatus } from '../../../src/servicenow/errors.js';
import {
  classifyNetworkError,
  parseErrorBody,
  unwrapResult,
} from '../../../src/servicenow/http.js';
import { errorFromResponse } from '../../../src/servicenow/request.js';

const ctx = { label: 'main (acme.service-now.com)', authMode: 'oauth:client_credentials' as const };

describe('servicenow error mapping', () => {
  it('maps HTTP statuses to kinds', () => {
    expect([401, 403, 404, 409, 429, 503, 400, 422].map(kindForStatus)).toEqual([
      'auth',
      'forbidden',
      'not_found',
      'conflict',
      'rate_limited',
      'unavailable',
      'invalid',
      'invalid',
    ]);
    expect(kindForStatus(200)).toBeUndefined();
  });

  it('names the instance, the endpoint and the missing role in a 403 on change_request', () => {
    const err = errorFromResponse(
      ctx,
      { method: 'GET', path: '/api/now/table/change_request', table: 'change_request' },
      {
        status: 403,
        json: {
          error: { message: 'Operation Failed', detail: 'ACL Exception' },
          status: 'failure',
        },
      },
    );
    expect(err).toBeInstanceOf(UpstreamError);
    expect(err.kind).toBe('forbidden');
    expect(err.retryable).toBe(false);
    expect(err.message).toContain('main (acme.service-now.com) GET /api/now/table/change_request');
    expect(err.message).toContain('"Operation Failed: ACL Exception"');
    expect(err.message).toMatch(/itil/);
  });

  it('points a client_credentials 401 at the client secret and the grant-type property', () => {
    const fix = fixFor({ kind: 'auth', path: '/oauth_token.do', auth: 'oauth:client_credentials' });
    expect(fix).toContain('clientSecret');
    expect(fix).toContain('glide.oauth.inbound.client.credential.grant_type.enabled');
  });

  it('names the change REST plugin when sn_chg_rest is not there', () => {
    const err = errorFromResponse(
      ctx,
      { method: 'GET', path: '/api/sn_chg_rest/change', table: 'change_request' },
      {
        status: 400,
        json: { error: { message: 'Requested URI does not represent any resource', detail: null } },
      },
    );
    expect(err.fix).toContain('com.snc.change_management.rest_api');
  });

  it('marks only rate_limited and unavailable as retryable', () => {
    const make = (kind: ServiceNowError['kind']) =>
      new ServiceNowError({ kind, instance: 'x', endpoint: 'GET /', fix: 'f' });
    expect(make('rate_limited').retryable).toBe(true);
    expect(make('unavailable').retryable).toBe(true);
    expect(make('auth').retryable).toBe(false);
    expect(make('invalid').retryable).toBe(false);
  });

  it('parses both the Table API and the OAuth error bodies', () => {
    expect(parseErrorBody({ error: { message: 'No Record found', detail: 'gone' } })).toEqual({
      message: 'No Record found',
      detail: 'gone',
    });
    expect(parseErrorBody({ error: 'server_error', error_description: 'access_denied' })).toEqual({
      message: 'server_error',
      detail: 'access_denied',
    });
    expect(parseErrorBody('<html>')).toEqual({});
  });

  it('unwraps the result envelope', () => {
    expect(unwrapResult({ result: [1] })).toEqual([1]);
    expect(unwrapResult({ items: [] })).toEqual({ items: [] });
  });

  it('classifies refused connections as not sent and resets as possibly sent', () => {
    const refused = classifyNetworkError(
      Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNREFUSED' } }),
      'http://127.0.0.1:1',
    );
    expect(refused.phase).toBe('tcp');
    expect(refused.sent).toBe(false);
    const dns = classifyNetworkError(
      new TypeError('fetch failed', {
        cause: Object.assign(new Error('x'), { code: 'ENOTFOUND' }),
      }),
      'https://nope.invalid',
    );
    expect(dns.phase).toBe('dns');
    const reset = classifyNetworkError(
      Object.assign(new TypeError('fetch failed'), { cause: { code: 'UND_ERR_SOCKET' } }),
      'http://x',
    );
    expect(reset.phase).toBe('reset');
    expect(reset.sent).toBe(true);
  });
});

describe('a refused state transition', () => {
  it('is named a business-rule abort, not a missing role', () => {
    const fix = fixFor({
      kind: 'forbidden',
      path: '/api/now/table/change_request/c83c5e5347c12200e0ef563dbb9a7190',
      table: 'change_request',
      auth: 'basic',
      snMessage: 'Operation Failed',
      snDetail: 'Invalid state transition from Assess to Authorize',
    });
    expect(fix).toContain('nextstates');
    expect(fix).not.toContain('itil');
  });
});
