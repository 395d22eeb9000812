/**
 * Attachment API: raw upload (`/file`), multipart upload (`/upload`), metadata, download, delete.
 * Metadata lives in sys_attachment (so the Table API sees it too); bytes in memory.
 *
 * @module
 */
import { createHash } from 'node:crypto';
import { Hono } from 'hono';
import type { SandboxContext } from '../context.js';
import { applyQuery, QuerySyntaxError } from '../query.js';
import { tableQuery } from './table.js';
import { denyUnlessAllowed, fail, notFound, type Ctx, type SandboxEnv } from './http.js';

const ATTACHMENT_KEYS = [
  'average_image_color',
  'compressed',
  'content_type',
  'file_name',
  'image_height',
  'image_width',
  'size_bytes',
  'size_compressed',
  'sys_created_by',
  'sys_created_on',
  'sys_id',
  'sys_mod_count',
  'sys_tags',
  'sys_updated_by',
  'sys_updated_on',
  'table_name',
  'table_sys_id',
] as const;

/** Build the Attachment API router (mount at `/api/now/attachment`). */
export function attachmentRoutes(ctx: SandboxContext): Hono<SandboxEnv> {
  const app = new Hono<SandboxEnv>();

  const store = (
    c: Ctx,
    table: string,
    tableSysId: string,
    fileName: string,
    contentType: string,
    bytes: Uint8Array,
  ): Response => {
    const denied = denyUnlessAllowed(c, table, 'update');
    if (denied) return denied;
    if (!table || !tableSysId || !fileName) {
      return fail(
        c,
        400,
        'Missing required parameters',
        'table_name, table_sys_id and file_name are required',
      );
    }
    // c_AttachmentAPI.md, POST /now/attachment/file: 404 "the record specified by the
    // table_name and table_sys_id parameters does not exist or is not accessible". The error
    // wording is not in the docs: ours.
    if (!ctx.store.dictionary.has(table) || !ctx.store.getInFamily(table, tableSysId)) {
      return fail(
        c,
        404,
        'Record not found',
        `No record ${tableSysId} in table ${table} to attach ${fileName} to`,
      );
    }
    if (bytes.byteLength > ctx.attachmentMaxBytes) {
      return fail(
        c,
        400,
        'Failed to create the attachment',
        `File size ${bytes.byteLength} exceeds the maximum attachment size of ${ctx.attachmentMaxBytes} bytes (com.glide.attachment.max_size)`,
      );
    }
    const meta = {
      table_name: table,
      table_sys_id: tableSysId,
      file_name: fileName,
      content_type: contentType,
      size_bytes: String(bytes.byteLength),
      size_compressed: String(bytes.byteLength),
      compressed: 'false',
      hash: createHash('sha256').update(bytes).digest('hex'),
      state: 'available',
      chunk_size_bytes: '700000',
      average_image_color: '',
      image_height: '',
      image_width: '',
    };
    const result = ctx.store.insert('sys_attachment', meta, c.get('user').username);
    if (!result.ok) return fail(c, 400, 'Failed to create the attachment', result.detail);
    const sysId = result.record.sys_id ?? '';
    ctx.attachments.set(sysId, bytes);
    // The Location a real instance answers is the versioned file URL: pysnc's own test
    // (ServiceNow/PySNC test/test_snc_attachment.py) asserts it equals
    // `<instance>/api/now/v1/attachment/<sys_id>/file`.
    c.header('Location', `${ctx.baseUrl}/api/now/v1/attachment/${sysId}/file`);
    return c.json({ result: withLink(result.record) }, 201);
  };

  app.post('/file', async (c) => {
    const bytes = new Uint8Array(await c.req.arrayBuffer());
    const contentType = c.req.header('content-type') ?? '';
    if (!contentType)
      return fail(c, 400, 'Content-Type is required', 'Send the file MIME type as Content-Type');
    return store(
      c,
      c.req.query('table_name') ?? '',
      c.req.query('table_sys_id') ?? '',
      c.req.query('file_name') ?? '',
      contentType,
      bytes,
    );
  });

  app.post('/upload', async (c) => {
    const form = await c.req.parseBody();
    const file = form.uploadFile ?? form.file;
    if (!(file instanceof File)) {
      return fail(
        c,
        400,
        'Failed to create the attachment. File part might be missing in the request.',
        null,
      );
    }
    const bytes = new Uint8Array(await file.arrayBuffer());
    return store(
      c,
      String(form.table_name ?? ''),
      String(form.table_sys_id ?? ''),
      file.name,
      file.type || 'application/octet-stream',
      bytes,
    );
  });

  // The metadata the Attachment API answers (c_AttachmentAPI.md, POST /now/attachment/file
  // "Response body parameters"): these keys, creator and updater by full name, the download link.
  const withLink = (record: Record<string, string>): Record<string, string> => {
    const nameOf = (userName: string): string =>
      ctx.store.get('sys_user', ctx.store.userId(userName))?.name ?? userName;
    const out: Record<string, string> = {};
    for (const key of ATTACHMENT_KEYS) out[key] = record[key] ?? '';
    return {
      ...out,
      created_by_name: nameOf(record.sys_created_by ?? ''),
      updated_by_name: nameOf(record.sys_updated_by ?? ''),
      download_link: `${ctx.baseUrl}/api/now/attachment/${record.sys_id ?? ''}/file`,
    };
  };

  app.get('/', (c) => {
    let query;
    try {
      query = tableQuery(ctx, 'sys_attachment', c.req.query('sysparm_query'));
    } catch (err) {
      if (err instanceof QuerySyntaxError) return fail(c, 400, 'Invalid query', err.message);
      throw err;
    }
    const hits = query ? applyQuery(query, ctx.store.list('sys_attachment')) : [];
    const limit = Math.max(1, Number(c.req.query('sysparm_limit') ?? 1000) || 1000);
    const offset = Math.max(0, Number(c.req.query('sysparm_offset') ?? 0) || 0);
    c.header('X-Total-Count', String(hits.length));
    return c.json({ result: hits.slice(offset, offset + limit).map(withLink) });
  });

  app.get('/:sys_id/file', (c) => {
    const meta = ctx.store.get('sys_attachment', c.req.param('sys_id'));
    const bytes = ctx.attachments.get(c.req.param('sys_id'));
    if (!meta || !bytes) return notFound(c);
    c.header('Content-Type', meta.content_type || 'application/octet-stream');
    c.header('X-Attachment-Metadata', JSON.stringify(withLink(meta)));
    return c.body(bytes.slice().buffer as ArrayBuffer, 200);
  });

  app.get('/:sys_id', (c) => {
    const meta = ctx.store.get('sys_attachment', c.req.param('sys_id'));
    return meta ? c.json({ result: withLink(meta) }) : notFound(c);
  });

  app.delete('/:sys_id', (c) => {
    const id = c.req.param('sys_id');
    if (!ctx.store.delete('sys_attachment', id)) return notFound(c);
    ctx.attachments.delete(id);
    return c.body(null, 204);
  });

  return app;
}
