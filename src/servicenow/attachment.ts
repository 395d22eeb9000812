/**
 * Attachment API: raw upload (`POST /api/now/attachment/file`) and listing.
 *
 * @module
 */
import { flattenRecord, flattenRecords, type SnRecord } from './flatten.js';
import { unwrapResult } from './http.js';
import type { Requester } from './request.js';

export interface UploadOptions {
  table: string;
  sysId: string;
  fileName: string;
  contentType: string;
  data: string | Uint8Array;
  signal?: AbortSignal | undefined;
}

export interface AttachmentApi {
  /**
   * Attach a file to a record. Not retried once it may have reached the instance: there is no
   * key to look a half-finished upload up by, and a duplicate attachment is worse than a retry
   * decided by the caller.
   */
  upload(options: UploadOptions): Promise<SnRecord>;
  /** Attachment metadata (sys_id, file_name, size_bytes, download_link...) of one record. */
  list(
    table: string,
    sysId: string,
    options?: { limit?: number; signal?: AbortSignal },
  ): Promise<SnRecord[]>;
}

/** The Attachment API of one connection. */
export function createAttachmentApi(request: Requester): AttachmentApi {
  return {
    async upload({ table, sysId, fileName, contentType, data, signal }) {
      const res = await request({
        method: 'POST',
        path: '/api/now/attachment/file',
        route: '/api/now/attachment/file',
        table: 'sys_attachment',
        query: { table_name: table, table_sys_id: sysId, file_name: fileName },
        raw: { data, contentType },
        signal,
      });
      return flattenRecord(unwrapResult(res.json));
    },
    async list(table, sysId, options) {
      const res = await request({
        method: 'GET',
        path: '/api/now/attachment',
        route: '/api/now/attachment',
        table: 'sys_attachment',
        query: {
          sysparm_query: `table_name=${table}^table_sys_id=${sysId}`,
          sysparm_limit: options?.limit ?? 100,
        },
        signal: options?.signal,
      });
      return flattenRecords(unwrapResult(res.json));
    },
  };
}
