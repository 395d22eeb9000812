import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { verifyStandardWebhook } from '../../../src/security/standard-webhooks.js';
import {
  startServiceNowSandbox,
  type ServiceNowSandbox,
} from '../../../src/sandbox/servicenow/index.js';

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const BASIC = `Basic ${Buffer.from('changegate.integration:changegate').toString('base64')}`;
const JSON_HEADERS = {
  authorization: BASIC,
  'content-type': 'application/json',
  accept: 'application/json',
};

interface Received {
  headers: Headers;
  body: Buffer;
}

/** A tiny stand-in for changegate's /hooks/servicenow receiver. */
async function startListener(): Promise<{ url: string; received: Received[]; server: Server }> {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const headers = new Headers();
      for (const [k, v] of Object.entries(req.headers))
        if (typeof v === 'string') headers.set(k, v);
      received.push({ headers, body: Buffer.concat(chunks) });
      res.writeHead(202).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/hooks/servicenow`, received, server };
}

async function json<T = Record<string, unknown>>(res: Response): Promise<T> {
  return (await res.json()) as T;
}

type Result<T> = { result: T };
type Rec = Record<string, string>;
type Field = { value: string; display_value: string };

describe('ServiceNow sandbox over HTTP', () => {
  let sn: ServiceNowSandbox;
  let listener: Awaited<ReturnType<typeof startListener>>;
  let now = Date.parse('2026-11-24T10:00:00Z');

  beforeAll(async () => {
    listener = await startListener();
    sn = await startServiceNowSandbox({
      oauth: { clientId: 'cg-client', clientSecret: 'cg-secret', tokenTtlSeconds: 60 },
      users: [
        {
          username: 'changegate.integration',
          password: 'changegate',
          roles: ['itil', 'change_manager'],
        },
        { username: 'viewer', password: 'viewer', roles: ['snc_internal'] },
      ],
      outbound: [{ url: listener.url, secret: SECRET }],
      clock: () => new Date(now),
      attachmentMaxBytes: 1024,
    });
  });
  afterEach(() => sn.admin.faults.clear());
  afterAll(async () => {
    await sn.close();
    await new Promise((r) => listener.server.close(r));
  });

  const api = (path: string, init: RequestInit = {}): Promise<Response> =>
    fetch(`${sn.url}${path}`, {
      ...init,
      headers: { ...JSON_HEADERS, ...(init.headers as Record<string, string>) },
    });
  const token = (body: string): Promise<Response> =>
    fetch(`${sn.url}/oauth_token.do`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body,
    });

  describe('authentication', () => {
    it('answers 401 User Not Authenticated without credentials', async () => {
      const res = await fetch(`${sn.url}/api/now/table/incident`);
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe('Basic realm="Service-now"');
      expect(await res.json()).toEqual({
        error: {
          message: 'User Not Authenticated',
          detail: 'Required to provide Auth information',
        },
        status: 'failure',
      });
    });

    it('rejects a wrong Basic password', async () => {
      const bad = `Basic ${Buffer.from('changegate.integration:nope').toString('base64')}`;
      expect(
        (await fetch(`${sn.url}/api/now/table/incident`, { headers: { authorization: bad } }))
          .status,
      ).toBe(401);
    });

    it('issues a client_credentials token that works as Bearer until it expires', async () => {
      const res = await token(
        'grant_type=client_credentials&client_id=cg-client&client_secret=cg-secret',
      );
      expect(res.status).toBe(200);
      const body = await json<{
        access_token: string;
        token_type: string;
        expires_in: number;
        refresh_token?: string;
      }>(res);
      expect(body).toMatchObject({ token_type: 'Bearer', expires_in: 60, scope: 'useraccount' });
      expect(body.refresh_token).toBeUndefined();
      const bearer = { authorization: `Bearer ${body.access_token}` };
      expect((await fetch(`${sn.url}/api/now/table/incident`, { headers: bearer })).status).toBe(
        200,
      );
      now += 61_000;
      const expired = await fetch(`${sn.url}/api/now/table/incident`, { headers: bearer });
      expect(expired.status).toBe(401);
      expect(await json(expired)).toMatchObject({ error: { message: 'User Not Authenticated' } });
    });

    it('issues password-grant tokens with a refresh token that can be exchanged', async () => {
      const first = await json<{ access_token: string; refresh_token: string }>(
        await token(
          'grant_type=password&client_id=cg-client&client_secret=cg-secret&username=changegate.integration&password=changegate',
        ),
      );
      expect(first.refresh_token).toBeTruthy();
      const refreshed = await token(
        `grant_type=refresh_token&client_id=cg-client&client_secret=cg-secret&refresh_token=${first.refresh_token}`,
      );
      expect(refreshed.status).toBe(200);
      const second = await json<{ access_token: string }>(refreshed);
      expect(second.access_token).not.toBe(first.access_token);
      const res = await fetch(`${sn.url}/api/now/table/incident`, {
        headers: { authorization: `Bearer ${second.access_token}` },
      });
      expect(res.status).toBe(200);
    });

    it('denies unknown clients and bad user passwords with access_denied', async () => {
      const res = await token(
        'grant_type=client_credentials&client_id=cg-client&client_secret=wrong',
      );
      expect(res.status).toBe(401);
      expect(await res.json()).toEqual({
        error_description: 'access_denied',
        error: 'server_error',
      });
      expect(
        (
          await token(
            'grant_type=password&client_id=cg-client&client_secret=cg-secret&username=viewer&password=x',
          )
        ).status,
      ).toBe(401);
    });

    it('forbids change_request to a user without itil with the ACL message', async () => {
      const viewer = `Basic ${Buffer.from('viewer:viewer').toString('base64')}`;
      const res = await api('/api/now/table/change_request', {
        method: 'POST',
        headers: { authorization: viewer },
        body: JSON.stringify({ short_description: 'x' }),
      });
      expect(res.status).toBe(403);
      expect(await res.json()).toEqual({
        error: {
          message: 'Operation Failed',
          detail: 'ACL Exception Insert Failed due to security constraints',
        },
        status: 'failure',
      });
      expect(
        (await api('/api/now/table/incident', { headers: { authorization: viewer } })).status,
      ).toBe(403);
    });
  });

  describe('Table API', () => {
    it('creates, reads, queries, updates and deletes records with platform fields', async () => {
      const created = await api('/api/now/table/incident', {
        method: 'POST',
        body: JSON.stringify({
          short_description: 'Pipeline failed',
          impact: '1',
          urgency: '2',
          correlation_id: 'gh/app/1',
        }),
      });
      expect(created.status).toBe(201);
      const inc = (await json<Result<Rec>>(created)).result;
      expect(inc.sys_id).toMatch(/^[0-9a-f]{32}$/);
      expect(inc.number).toMatch(/^INC\d{7}$/);
      expect(inc.sys_created_on).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);
      expect(inc.priority).toBe('2');
      expect(created.headers.get('location')).toBe(
        `${sn.url}/api/now/table/incident/${inc.sys_id}`,
      );

      const byId = await api(
        `/api/now/table/incident/${inc.sys_id}?sysparm_fields=number,state&sysparm_display_value=true`,
      );
      expect((await json<Result<Rec>>(byId)).result).toEqual({ number: inc.number, state: 'New' });

      const patched = await api(`/api/now/table/incident/${inc.sys_id}`, {
        method: 'PATCH',
        body: JSON.stringify({ state: '2' }),
      });
      expect(patched.status).toBe(200);
      expect((await json<Result<Rec>>(patched)).result.sys_mod_count).toBe('1');

      const found = await api(
        '/api/now/table/incident?sysparm_query=correlation_id=gh/app/1^state=2',
      );
      expect((await json<Result<Rec[]>>(found)).result.map((r) => r.sys_id)).toEqual([inc.sys_id]);

      expect(
        (await api(`/api/now/table/incident/${inc.sys_id}`, { method: 'DELETE' })).status,
      ).toBe(204);
      const gone = await api(`/api/now/table/incident/${inc.sys_id}`);
      expect(gone.status).toBe(404);
      expect(await gone.json()).toEqual({
        error: {
          message: 'No Record found',
          detail: "Record doesn't exist or ACL restricts the record retrieval",
        },
        status: 'failure',
      });
    });

    it('paginates with X-Total-Count and a Link header', async () => {
      for (let i = 0; i < 5; i++) {
        await api('/api/now/table/sys_user_group', {
          method: 'POST',
          body: JSON.stringify({ name: `page-row-${i}` }),
        });
      }
      const res = await api(
        '/api/now/table/sys_user_group?sysparm_limit=2&sysparm_offset=2&sysparm_query=nameSTARTSWITHpage-row-^ORDERBYname',
      );
      expect(res.headers.get('x-total-count')).toBe('5');
      const link = res.headers.get('link') ?? '';
      const rels = Object.fromEntries(
        link.split(',').map((part) => {
          const [, url = '', rel = ''] = /^<([^>]*)>;rel="(\w+)"$/.exec(part) ?? [];
          return [rel, new URL(url).searchParams.get('sysparm_offset')];
        }),
      );
      expect(rels).toEqual({ first: '0', prev: '0', next: '4', last: '4' });
      expect((await json<Result<Rec[]>>(res)).result.map((r) => r.name)).toEqual([
        'page-row-2',
        'page-row-3',
      ]);
    });

    it('stores journal fields in sys_journal_field and reads them back empty', async () => {
      const res = await api('/api/now/table/change_request', {
        method: 'POST',
        body: JSON.stringify({ short_description: 'journal', work_notes: 'pipeline https://ci/1' }),
      });
      const chg = (await json<Result<Rec>>(res)).result;
      expect(chg.work_notes).toBe('');
      const query = `/api/now/table/sys_journal_field?sysparm_query=element_id=${chg.sys_id}^element=work_notes`;
      // Without an ACL granting sys_journal_field, the rows are filtered out, not refused.
      const hidden = await api(query);
      expect(hidden.status).toBe(200);
      expect((await json<Result<Rec[]>>(hidden)).result).toEqual([]);
      const [entry] = sn.admin
        .records('sys_journal_field')
        .filter((j) => j.element_id === chg.sys_id);
      expect(entry).toMatchObject({ element: 'work_notes', value: 'pipeline https://ci/1' });
      expect((await api(`/api/now/table/sys_journal_field/${entry!.sys_id}`)).status).toBe(404);
    });

    it('shows journal entries to the roles a read ACL grants', async () => {
      const granted = await startServiceNowSandbox({ readAcls: { sys_journal_field: ['itil'] } });
      try {
        const auth = { ...JSON_HEADERS };
        const created = await fetch(`${granted.url}/api/now/table/incident`, {
          method: 'POST',
          headers: auth,
          body: JSON.stringify({ work_notes: 'seen' }),
        });
        const inc = (await json<Result<Rec>>(created)).result;
        const notes = await fetch(
          `${granted.url}/api/now/table/sys_journal_field?sysparm_query=element_id=${inc.sys_id}`,
          { headers: auth },
        );
        expect((await json<Result<Rec[]>>(notes)).result.map((n) => n.value)).toEqual(['seen']);
      } finally {
        await granted.close();
      }
    });

    it('returns reference fields as link/value unless links are excluded', async () => {
      const group = sn.admin.records('sys_user_group')[0]!;
      const res = await api('/api/now/table/change_request?sysparm_display_value=all', {
        method: 'POST',
        body: JSON.stringify({ short_description: 'refs', assignment_group: group.sys_id }),
      });
      const rec = (
        await json<Result<Record<string, { value: string; display_value: string; link?: string }>>>(
          res,
        )
      ).result;
      expect(rec.assignment_group).toEqual({
        display_value: group.name,
        link: `${sn.url}/api/now/table/sys_user_group/${group.sys_id}`,
        value: group.sys_id,
      });
      expect(rec.state).toEqual({ display_value: 'New', value: '-5' });
    });
  });

  describe('change lifecycle', () => {
    it('takes a normal change through assess, authorize, approval, implement and close', async () => {
      const created = await api('/api/sn_chg_rest/change/normal', {
        method: 'POST',
        body: JSON.stringify({
          short_description: 'Deploy v2',
          correlation_id: 'gh/app/42',
          no_such_field: 'x',
        }),
      });
      expect(created.status).toBe(200);
      const chg = (
        await json<Result<Record<string, Field> & { __meta: { ignoredFields: string[] } }>>(created)
      ).result;
      expect(chg.state).toEqual({ value: -5, display_value: 'New' });
      expect(chg.type).toEqual({ value: 'normal', display_value: 'Normal' });
      expect(chg.__meta.ignoredFields).toEqual(['no_such_field']);
      const id = chg.sys_id!.value;

      const patch = (body: object): Promise<Response> =>
        api(`/api/sn_chg_rest/change/normal/${id}`, {
          method: 'PATCH',
          body: JSON.stringify(body),
        });
      const assessed = (await json<Result<Record<string, Field>>>(await patch({ state: '-4' })))
        .result;
      expect(assessed.approval!.value).toBe('requested');
      // Assess -> Authorize is the approval engine's move, not the client's.
      expect((await patch({ state: '-3' })).status).toBe(403);
      const next = await json<
        Result<{
          available_states: string[];
          state_transitions: { to_state: string; transition_available: boolean }[][];
        }>
      >(await api(`/api/sn_chg_rest/change/${id}/nextstates`));
      expect(next.result.available_states).toEqual(['-5', '4', '-4']);
      expect(next.result.state_transitions.flat()).toContainEqual(
        expect.objectContaining({
          to_state: '-3',
          display_value: 'Assess to Authorize',
          transition_available: false,
          automatic_transition: true,
        }),
      );

      // The technical approver decides through the approvals API; the integration user cannot.
      const notMine = await api(`/api/sn_chg_rest/change/${id}/approvals`, {
        method: 'PATCH',
        body: JSON.stringify({ state: 'approved' }),
      });
      expect(notMine.status).toBe(400);
      const asApprover = (user: string) => (body: object) =>
        fetch(`${sn.url}/api/sn_chg_rest/change/${id}/approvals`, {
          method: 'PATCH',
          headers: {
            ...JSON_HEADERS,
            authorization: `Basic ${Buffer.from(`${user}:changegate`).toString('base64')}`,
          },
          body: JSON.stringify(body),
        });
      const technical = await asApprover('tech.approver')({ state: 'approved' });
      expect(technical.status).toBe(200);
      expect((await json<Result<Record<string, Field>>>(technical)).result.state).toEqual({
        value: -3,
        display_value: 'Authorize',
      });
      const approved = await asApprover('cab.approver')({ state: 'approved' });
      expect(approved.status).toBe(200);
      expect((await json<Result<Record<string, Field>>>(approved)).result.state).toEqual({
        value: -2,
        display_value: 'Scheduled',
      });
      const records = sn.admin.approvals(chg.number!.value);
      expect(records.map((a) => [a.approval_source, a.state])).toEqual([
        ['technical', 'approved'],
        ['cab', 'approved'],
      ]);

      expect((await patch({ state: '-1' })).status).toBe(200);
      expect((await patch({ state: '0' })).status).toBe(200);
      const noCode = await patch({ state: '3' });
      expect(noCode.status).toBe(403);
      expect(await json(noCode)).toMatchObject({
        error: { message: 'Operation Failed' },
        status: 'failure',
      });
      const closed = await patch({
        state: '3',
        close_code: 'successful',
        close_notes: 'Deployed by changegate',
      });
      expect((await json<Result<Record<string, Field>>>(closed)).result.state!.display_value).toBe(
        'Closed',
      );
    });

    it('aborts an invalid transition with a 403 business-rule message', async () => {
      const chg = (
        await json<Result<Record<string, Field>>>(
          await api('/api/sn_chg_rest/change/normal', { method: 'POST', body: '{}' }),
        )
      ).result;
      const res = await api(`/api/now/table/change_request/${chg.sys_id!.value}`, {
        method: 'PATCH',
        body: JSON.stringify({ state: '-1' }),
      });
      expect(res.status).toBe(403);
      const body = await json<{ error: { message: string; detail: string } }>(res);
      expect(body.error.message).toBe('Operation Failed');
      expect(body.error.detail).toContain('Invalid state transition from New to Implement');
    });

    it('sends a rejected change back to New and records the reason', async () => {
      const chg = (
        await json<Result<Record<string, Field>>>(
          await api('/api/sn_chg_rest/change/emergency', { method: 'POST', body: '{}' }),
        )
      ).result;
      const id = chg.sys_id!.value;
      await api(`/api/sn_chg_rest/change/emergency/${id}`, {
        method: 'PATCH',
        body: JSON.stringify({ state: '-3' }),
      });
      const noReason = await api(`/api/sn_chg_rest/change/${id}/approvals`, {
        method: 'PATCH',
        body: JSON.stringify({ state: 'rejected' }),
      });
      expect(noReason.status).toBe(400);
      const rejected = sn.admin.reject(chg.number!.value, 'Outside the window');
      expect(rejected).toMatchObject({ state: '-5', approval: 'rejected' });
      // The reason is the approval record's comment, written by the approver it names.
      const [approval] = sn.admin.approvals(chg.number!.value);
      expect(approval).toMatchObject({ state: 'rejected', sys_updated_by: 'cab.approver' });
      const journal = sn.admin
        .records('sys_journal_field')
        .filter((j) => j.element_id === approval!.sys_id);
      expect(journal.map((j) => j.value)).toContain('Outside the window');
    });

    it('admin approves as the named approvers, one stage or all', async () => {
      const chg = (
        await json<Result<Record<string, Field>>>(
          await api('/api/sn_chg_rest/change/normal', { method: 'POST', body: '{}' }),
        )
      ).result;
      const number = String(chg.number!.value);
      expect(() => sn.admin.approve(number)).toThrow(/no pending approval/);
      sn.admin.setState(number, '-4');
      expect(() => sn.admin.setField(number, 'approval', 'approved')).toThrow(
        /approval engine sets it/,
      );
      expect(() => sn.admin.approve(number, 'ok', { approver: 'cab.approver' })).toThrow(
        /no pending approval for cab.approver/,
      );
      expect(sn.admin.approve(number, 'tech ok', { stages: 'current' })).toMatchObject({
        state: '-3',
        approval: 'requested',
      });
      const res = await fetch(`${sn.url}/sandbox/admin/changes/${number}/approve`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ approver: 'cab.approver', comment: 'CAB ok' }),
      });
      expect((await json<Result<Rec>>(res)).result).toMatchObject({
        state: '-2',
        approval: 'approved',
      });
      expect(
        sn.admin.approvals(number).map((a) => [a.approval_source, a.state, a.sys_updated_by]),
      ).toEqual([
        ['technical', 'approved', 'tech.approver'],
        ['cab', 'approved', 'cab.approver'],
      ]);
    });

    it('creates a standard change from a template, pre-approved, in New', async () => {
      const templates = await json<Result<Record<string, Field>[]>>(
        await api('/api/sn_chg_rest/change/standard/template'),
      );
      const template = templates.result[0]!;
      const res = await api(`/api/sn_chg_rest/change/standard/${template.sys_id!.value}`, {
        method: 'POST',
        body: JSON.stringify({ correlation_id: 'gh/app/std' }),
      });
      expect(res.status).toBe(200);
      const chg = (await json<Result<Record<string, Field>>>(res)).result;
      expect(chg.state!.value).toBe(-5);
      expect(chg.approval!.value).toBe('approved');
      expect(chg.short_description!.value).toBe('Deploy application release');
      // A template applies its own fields only: correlation_id is ignored, as documented.
      expect(chg.correlation_id!.value).toBe('');
      expect(
        (chg as unknown as { __meta: { ignoredFields: string[] } }).__meta.ignoredFields,
      ).toContain('correlation_id');
      expect(
        (
          await api('/api/sn_chg_rest/change/standard/0123456789abcdef0123456789abcdef', {
            method: 'POST',
            body: '{}',
          })
        ).status,
      ).toBe(404);
    });

    it('lets the admin HTTP API play approver', async () => {
      const chg = (
        await json<Result<Record<string, Field>>>(
          await api('/api/sn_chg_rest/change/emergency', { method: 'POST', body: '{}' }),
        )
      ).result;
      await api(`/api/sn_chg_rest/change/${chg.sys_id!.value}`, {
        method: 'PATCH',
        body: JSON.stringify({ state: '-3' }),
      });
      const res = await fetch(`${sn.url}/sandbox/admin/changes/${chg.number!.value}/approve`, {
        method: 'POST',
        body: '{}',
      });
      expect(res.status).toBe(200);
      expect((await json<Result<Rec>>(res)).result).toMatchObject({
        state: '-2',
        approval: 'approved',
      });
    });
  });

  describe('Attachment API', () => {
    it('uploads raw bytes, lists them by record and downloads them back', async () => {
      const inc = (
        await json<Result<Rec>>(
          await api('/api/now/table/incident', { method: 'POST', body: '{}' }),
        )
      ).result;
      const up = await fetch(
        `${sn.url}/api/now/attachment/file?table_name=incident&table_sys_id=${inc.sys_id}&file_name=junit.xml`,
        {
          method: 'POST',
          headers: { authorization: BASIC, 'content-type': 'application/xml' },
          body: '<testsuite/>',
        },
      );
      expect(up.status).toBe(201);
      const meta = (await json<Result<Rec>>(up)).result;
      expect(meta).toMatchObject({
        file_name: 'junit.xml',
        content_type: 'application/xml',
        size_bytes: '12',
        table_name: 'incident',
      });
      expect(meta.download_link).toBe(`${sn.url}/api/now/attachment/${meta.sys_id}/file`);

      const listed = await api(`/api/now/attachment?sysparm_query=table_sys_id=${inc.sys_id}`);
      expect((await json<Result<Rec[]>>(listed)).result.map((a) => a.sys_id)).toEqual([
        meta.sys_id,
      ]);
      const file = await fetch(meta.download_link!, { headers: { authorization: BASIC } });
      expect(file.headers.get('content-type')).toContain('application/xml');
      expect(await file.text()).toBe('<testsuite/>');

      const big = await fetch(
        `${sn.url}/api/now/attachment/file?table_name=incident&table_sys_id=${inc.sys_id}&file_name=big.log`,
        {
          method: 'POST',
          headers: { authorization: BASIC, 'content-type': 'text/plain' },
          body: 'x'.repeat(2048),
        },
      );
      expect(big.status).toBe(400);
    });
  });

  describe('Batch API', () => {
    it('runs each item as its own request with the batch credentials, bodies base64', async () => {
      const b64 = (v: object) => Buffer.from(JSON.stringify(v)).toString('base64');
      const res = await api('/api/now/v1/batch', {
        method: 'POST',
        body: JSON.stringify({
          batch_request_id: 7,
          rest_requests: [
            {
              id: 'a',
              method: 'POST',
              url: '/api/now/table/sys_user_group',
              headers: [{ name: 'Content-Type', value: 'application/json' }],
              body: b64({ name: 'batched-group' }),
            },
            { id: 'b', method: 'GET', url: '/api/now/table/u_nope', headers: [] },
          ],
        }),
      });
      const out = await json<{
        batch_request_id: string;
        serviced_requests: { id: string; status_code: number; body: string }[];
        unserviced_requests: string[];
      }>(res);
      expect(out.batch_request_id).toBe('7');
      expect(out.serviced_requests.map((r) => [r.id, r.status_code])).toEqual([
        ['a', 201],
        ['b', 400],
      ]);
      const created = JSON.parse(
        Buffer.from(out.serviced_requests[0]!.body, 'base64').toString('utf8'),
      ) as Result<Rec>;
      expect(created.result.name).toBe('batched-group');
      expect(created.result.sys_created_by).toBe('changegate.integration');
    });
  });

  describe('identifyreconcile', () => {
    it('inserts, then updates, then reports no change, and relates items by index', async () => {
      const send = async (version: string): Promise<{ items: Rec[]; relations: Rec[] }> => {
        const res = await api('/api/now/identifyreconcile?sysparm_data_source=ServiceNow', {
          method: 'POST',
          body: JSON.stringify({
            items: [
              // The engine's own example of a dependent CI (IdentificationEngineScopedAPI.md).
              {
                className: 'cmdb_ci_appl',
                values: {
                  name: 'svc-a',
                  version,
                  running_process_command: '/usr/bin/node',
                  running_process_key_parameters: 'server.js --port 3452',
                },
              },
              { className: 'cmdb_ci_linux_server', values: { name: 'host-9' } },
            ],
            relations: [{ parent: 0, child: 1, type: 'Runs on::Runs' }],
          }),
        });
        expect(res.status).toBe(200);
        return (await json<Result<{ items: Rec[]; relations: Rec[] }>>(res)).result;
      };
      const first = await send('1.0');
      expect(first.items.map((i) => i.operation)).toEqual(['INSERT', 'INSERT']);
      expect(first.items[0]).toMatchObject({ className: 'cmdb_ci_appl', errorCount: 0 });
      expect(first.items[0]!.sysId).toMatch(/^[0-9a-f]{32}$/);
      expect(first.relations[0]).toMatchObject({ className: 'cmdb_rel_ci', operation: 'INSERT' });
      const second = await send('1.1');
      expect(second.items.map((i) => i.operation)).toEqual(['UPDATE', 'NO_CHANGE']);
      expect(second.items[0]!.sysId).toBe(first.items[0]!.sysId);
      const third = await send('1.1');
      expect(third.items.map((i) => i.operation)).toEqual(['NO_CHANGE', 'NO_CHANGE']);
      expect(third.relations[0]).toMatchObject({ operation: 'NO_CHANGE' });
      const rels = sn.admin.records('cmdb_rel_ci');
      expect(rels).toHaveLength(1);
      const type = sn.admin.records('cmdb_rel_type').find((t) => t.sys_id === rels[0]!.type);
      expect(type?.name).toBe('Runs on::Runs');
    });

    const reconcile = async (
      body: object,
      path = '/api/now/identifyreconcile',
    ): Promise<{ items: ItemOut[]; relations: ItemOut[] }> => {
      const res = await api(path, { method: 'POST', body: JSON.stringify(body) });
      expect(res.status).toBe(200);
      return (await json<Result<{ items: ItemOut[]; relations: ItemOut[] }>>(res)).result;
    };
    type ItemOut = Rec & { errors?: { error: string; message: string }[] };

    it('refuses an application without the Runs on host it depends on (MISSING_DEPENDENCY)', async () => {
      // What the CMDB worker's defaults send: an app identified by name and version only.
      const { items } = await reconcile({
        items: [{ className: 'cmdb_ci_appl', values: { name: 'svc-b', version: '1' } }],
      });
      expect(items[0]).toMatchObject({ sysId: 'Unknown', errorCount: 1 });
      expect(items[0]!.errors![0]!.error).toBe('MISSING_DEPENDENCY');
      expect(sn.admin.records('cmdb_ci_appl').some((a) => a.name === 'svc-b')).toBe(false);
    });

    it('refuses an application on a host but without identifier attributes', async () => {
      const { items } = await reconcile({
        items: [
          { className: 'cmdb_ci_appl', values: { name: 'svc-c' } },
          { className: 'cmdb_ci_linux_server', values: { name: 'host-10' } },
        ],
        relations: [{ parent: 0, child: 1, type: 'Runs on::Runs' }],
      });
      expect(items[0]!.errors![0]!.error).toBe('MISSING_MATCHING_ATTRIBUTES');
      expect(items[1]).toMatchObject({ operation: 'INSERT', errorCount: 0 });
    });

    it('refuses classes and relation types the instance does not have', async () => {
      const { items } = await reconcile({
        items: [
          { className: 'cmdb_ci_os_image', values: { name: 'img' } },
          { className: 'cmdb_ci_docker_image', values: { name: 'img', image_id: 'sha256:1' } },
          { className: 'cmdb_ci_service', values: { name: 'Online Banking' } },
        ],
        relations: [{ parent: 2, child: 1, type: 'Deploys::Deployed by' }],
      });
      expect(items.map((i) => i.errors?.[0]?.error)).toEqual([
        'INVALID_INPUT_DATA',
        'INVALID_INPUT_DATA',
        'INVALID_INPUT_DATA',
      ]);
      expect(items[0]!.errors![0]!.message).toContain('cmdb_ci_os_image');
      expect(items[1]!.errors![0]!.message).toContain('Deploys::Deployed by');
    });

    it('identifies a docker image and a service by their base rules', async () => {
      const { items, relations } = await reconcile({
        items: [
          { className: 'cmdb_ci_docker_image', values: { name: 'api', image_id: 'sha256:2' } },
          { className: 'cmdb_ci_service', values: { name: 'Online Banking' } },
        ],
        relations: [{ parent: 1, child: 0, type: 'Depends on::Used by' }],
      });
      expect(items.map((i) => i.operation)).toEqual(['INSERT', 'NO_CHANGE']);
      expect(relations[0]).toMatchObject({ operation: 'INSERT', errorCount: 0 });
    });

    it('reports without committing on /query', async () => {
      const before = sn.admin.records('cmdb_ci_linux_server').length;
      const { items } = await reconcile(
        { items: [{ className: 'cmdb_ci_linux_server', values: { name: 'dry-run-host' } }] },
        '/api/now/identifyreconcile/query',
      );
      expect(items[0]).toMatchObject({ operation: 'INSERT', sysId: 'Unknown' });
      expect(sn.admin.records('cmdb_ci_linux_server')).toHaveLength(before);
    });
  });

  describe('business rules', () => {
    it('posts a signed change.updated message after a change update', async () => {
      await sn.admin.outbound.idle();
      listener.received.length = 0;
      const chg = (
        await json<Result<Rec>>(
          await api('/api/now/table/change_request', {
            method: 'POST',
            body: JSON.stringify({ correlation_id: 'gh/app/br' }),
          }),
        )
      ).result;
      await sn.admin.outbound.idle();
      expect(listener.received).toHaveLength(1);
      const msg = listener.received[0]!;
      const id = verifyStandardWebhook(msg.headers, new Uint8Array(msg.body), [SECRET], {
        now: new Date(now),
        toleranceSeconds: 300,
      });
      expect(id).toMatch(/^[0-9a-f]{32}$/);
      expect(msg.headers.get('content-type')).toBe('application/json');
      const body = JSON.parse(msg.body.toString('utf8')) as {
        type: string;
        timestamp: string;
        data: Rec;
      };
      expect(body.type).toBe('change.updated');
      expect(Object.keys(body.data).slice(0, 9)).toEqual([
        'table',
        'sys_id',
        'number',
        'state',
        'approval',
        'correlation_id',
        'start_date',
        'end_date',
        'sys_updated_on',
      ]);
      expect(body.data).toMatchObject({
        table: 'change_request',
        sys_id: chg.sys_id,
        number: chg.number,
        state: '-5',
        correlation_id: 'gh/app/br',
      });
      const record = sn.admin.outbound.sent().at(-1)!;
      expect(record).toMatchObject({ status: 202, dropped: false, sysId: chg.sys_id });
      expect(record.body).toBe(msg.body.toString('utf8'));
    });

    it('fires like the install kit: only with a correlation_id, only on its trigger fields, null for empty', async () => {
      await sn.admin.outbound.idle();
      listener.received.length = 0;
      const untracked = (
        await json<Result<Rec>>(
          await api('/api/now/table/change_request', { method: 'POST', body: '{}' }),
        )
      ).result;
      const tracked = (
        await json<Result<Rec>>(
          await api('/api/now/table/change_request', {
            method: 'POST',
            body: JSON.stringify({ correlation_id: 'gh/app/rule' }),
          }),
        )
      ).result;
      const patch = (id: string, body: object) =>
        api(`/api/now/table/change_request/${id}`, { method: 'PATCH', body: JSON.stringify(body) });
      await patch(untracked.sys_id!, { state: '-4' });
      await patch(tracked.sys_id!, { short_description: 'not a trigger field' });
      await patch(tracked.sys_id!, { start_date: '2026-11-25 09:00:00' });
      await sn.admin.outbound.idle();
      const bodies = listener.received.map(
        (m) => JSON.parse(m.body.toString('utf8')) as { data: Record<string, unknown> },
      );
      // The insert and the start_date change of the tracked change, nothing else.
      expect(bodies.map((b) => [b.data.sys_id, b.data.start_date])).toEqual([
        [tracked.sys_id, null],
        [tracked.sys_id, '2026-11-25 09:00:00'],
      ]);
      expect(bodies[0]!.data).toMatchObject({ end_date: null, cmdb_ci: null, type: 'normal' });
      expect(bodies[0]!.data).not.toHaveProperty('short_description');
    });

    it('drops an outbound message under a drop-outbound fault and records it', async () => {
      await sn.admin.outbound.idle();
      listener.received.length = 0;
      sn.admin.faults.inject({ kind: 'drop-outbound', count: 1 });
      await api('/api/now/table/incident', {
        method: 'POST',
        body: JSON.stringify({ correlation_id: 'changegate/incident/drop' }),
      });
      await sn.admin.outbound.idle();
      expect(listener.received).toHaveLength(0);
      expect(sn.admin.outbound.sent().at(-1)).toMatchObject({
        dropped: true,
        type: 'incident.updated',
      });
    });
  });

  describe('a standard change made findable', () => {
    it("takes correlation_id from a Table API PATCH, and the kit's rule fires on it", async () => {
      await sn.admin.outbound.idle();
      listener.received.length = 0;
      const [template] = sn.admin.records('std_change_record_producer');
      const created = await api(`/api/sn_chg_rest/change/standard/${template!.sys_id}`, {
        method: 'POST',
        body: JSON.stringify({ correlation_id: 'gh/app/std-2' }),
      });
      const id = String((await json<Result<Record<string, Field>>>(created)).result.sys_id!.value);
      const find = async () =>
        (
          await json<Result<Rec[]>>(
            await api('/api/now/table/change_request?sysparm_query=correlation_id=gh/app/std-2'),
          )
        ).result;
      expect(await find()).toEqual([]);
      await api(`/api/now/table/change_request/${id}`, {
        method: 'PATCH',
        body: JSON.stringify({ correlation_id: 'gh/app/std-2' }),
      });
      expect((await find()).map((r) => r.sys_id)).toEqual([id]);
      await sn.admin.outbound.idle();
      // The kit's rule fires on correlation_id.changes() (deploy/servicenow), so a standard
      // change tagged after its template create is reported at once, then on every state change.
      expect(listener.received).toHaveLength(1);
      await api(`/api/now/table/change_request/${id}`, {
        method: 'PATCH',
        body: JSON.stringify({ state: '-2' }),
      });
      await sn.admin.outbound.idle();
      const bodies = listener.received.map(
        (m) => JSON.parse(m.body.toString('utf8')) as { data: Record<string, unknown> },
      );
      expect(bodies.map((b) => [b.data.correlation_id, b.data.state, b.data.approval])).toEqual([
        ['gh/app/std-2', '-5', 'approved'],
        ['gh/app/std-2', '-2', 'approved'],
      ]);
    });
  });

  describe('fault injection', () => {
    it('answers 429 with Retry-After and X-RateLimit headers', async () => {
      sn.admin.faults.inject({
        kind: '429',
        path: '/api/now/table/*',
        count: 1,
        retryAfterSeconds: 7,
      });
      const res = await api('/api/now/table/incident');
      expect(res.status).toBe(429);
      expect(res.headers.get('retry-after')).toBe('7');
      expect(res.headers.get('x-ratelimit-limit')).toBe('1000');
      expect(Number(res.headers.get('x-ratelimit-reset'))).toBe(Math.floor(now / 1000) + 7);
      expect(res.headers.get('x-ratelimit-rule')).toMatch(/^[0-9a-f]{32}$/);
      expect(await json(res)).toMatchObject({ status: 'failure' });
      expect((await api('/api/now/table/incident')).status).toBe(200);
    });

    it('answers 500 with the JSON envelope and 503 with an HTML page', async () => {
      sn.admin.faults.inject({ kind: '500', method: 'GET', count: 1 });
      const five = await api('/api/now/table/incident');
      expect(five.status).toBe(500);
      expect(await json(five)).toMatchObject({ status: 'failure' });
      sn.admin.faults.inject({ kind: '503', count: 1 });
      const unavailable = await api('/api/now/table/incident');
      expect(unavailable.status).toBe(503);
      expect(unavailable.headers.get('content-type')).toContain('text/html');
    });

    it('delays a response under a latency fault', async () => {
      sn.admin.faults.inject({ kind: 'latency', latencyMs: 150, count: 1 });
      const started = Date.now();
      expect((await api('/api/now/table/incident')).status).toBe(200);
      expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    });

    it('never answers under a timeout fault until the client gives up', async () => {
      sn.admin.faults.inject({ kind: 'timeout', count: 1 });
      await expect(
        api('/api/now/table/incident', { signal: AbortSignal.timeout(200) }),
      ).rejects.toThrow();
      expect((await api('/api/now/table/incident')).status).toBe(200);
    });

    it('stores exactly one record when the connection resets after commit', async () => {
      // Injected over the admin HTTP API, as an out-of-process test would.
      const injected = await fetch(`${sn.url}/sandbox/admin/faults`, {
        method: 'POST',
        body: JSON.stringify({
          kind: 'reset-after-commit',
          method: 'POST',
          path: '/api/now/table/incident',
          count: 1,
        }),
      });
      expect(injected.status).toBe(200);
      const before = sn.admin.requests().length;
      await expect(
        api('/api/now/table/incident', {
          method: 'POST',
          body: JSON.stringify({ correlation_id: 'gh/app/reset' }),
        }),
      ).rejects.toThrow();
      // What a careful client does next: look the record up by correlation_id before re-creating.
      const lookup = await api('/api/now/table/incident?sysparm_query=correlation_id=gh/app/reset');
      expect((await json<Result<Rec[]>>(lookup)).result).toHaveLength(1);
      const posts = sn.admin
        .requests()
        .slice(before)
        .filter((r) => r.method === 'POST');
      expect(posts).toEqual([
        expect.objectContaining({
          path: '/api/now/table/incident',
          status: 0,
          fault: 'reset-after-commit',
        }),
      ]);
    });
  });
});
