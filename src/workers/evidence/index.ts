import { auditRecord, type AuditEntry } from '../../audit/auditor.js';
import type { Bus } from '../../bus/port.js';
import type { EvidenceConfig } from '../../config/evidence.js';
import type { Config } from '../../config/schema.js';
import { UpstreamError } from '../../errors.js';
import type { TestReportedData } from '../../events/cicd.js';
import type { ServiceNowClient, ServiceNowClients, SnRecord } from '../../servicenow/index.js';
import { capBytes, contentTypeOf, safeFileName } from './content.js';
import { fetchReport, ReportRefusedError } from './fetch-report.js';
import { ChangeNotFoundError, findChange } from './find-change.js';
import { parseJunit } from './junit.js';
import { parseSarif } from './sarif.js';
import { buildSummaryNote, summaryMarker, type ReportOutcome } from './summary.js';
import {
  eventRouter,
  type HandlerContext,
  type TypedEvent,
  type WorkerDefinition,
} from '../runtime/index.js';

export { ChangeNotFoundError } from './find-change.js';
export { ReportRefusedError } from './fetch-report.js';

export interface EvidenceWorkerOptions {
  config: Pick<Config, 'kafka' | 'evidence'>;
  bus: Bus;
  servicenow: ServiceNowClients;
  fetchImpl?: typeof fetch;
  /** For tests: the waits between CR lookups. */
  sleep?: (ms: number) => Promise<void>;
}

const TABLE = 'change_request';
const ACTOR = 'changegate/evidence';
type Report = TestReportedData['reports'][number];

/**
 * The evidence worker: `dev.changegate.test.reported` in, attachments and one summary work note
 * on the CR out.
 *
 * Idempotent, so a redelivery changes nothing: a report is uploaded only when the CR has no
 * attachment of the same file name and size (`attachment.list`), and the summary only when the
 * journal holds no note with this event's marker. Uploads and work notes are not retried by the
 * client once they may have been sent; a retry of the whole event goes through those checks.
 *
 * A report that cannot be had (URL refused by the allow-list, 404) is named in the summary and
 * the rest still goes in; a transient download or ServiceNow failure fails the event, which the
 * runtime retries and finally dead-letters. No CR after the configured lookups dead-letters too.
 */
export function evidenceWorker(options: EvidenceWorkerOptions): WorkerDefinition {
  const { config, bus, servicenow, fetchImpl } = options;
  const ev: EvidenceConfig = config.evidence;
  const topics = config.kafka.topics;

  async function reportBytes(
    report: Report,
  ): Promise<{ bytes: Uint8Array; cut: boolean; declared?: number }> {
    if (report.content !== undefined)
      return { bytes: Buffer.from(report.content, 'utf8'), cut: false };
    const fetched = await fetchReport(report.url!, {
      policy: { allowList: ev.fetch.allowList, allowLoopback: ev.fetch.allowLoopback },
      timeoutMs: ev.fetch.timeoutMs,
      maxBytes: ev.fetch.maxBytes,
      authorization: ev.fetch.authorization,
      ...(fetchImpl ? { fetchImpl } : {}),
    });
    return {
      bytes: fetched.bytes,
      cut: fetched.cut,
      ...(fetched.declaredBytes !== undefined ? { declared: fetched.declaredBytes } : {}),
    };
  }

  async function oneReport(
    client: ServiceNowClient,
    cr: { sys_id: string },
    report: Report,
    existing: SnRecord[],
  ): Promise<ReportOutcome> {
    const name = safeFileName(report.name, report.format);
    const contentType = contentTypeOf(report.format, report.contentType);
    const base = { name, format: report.format, contentType } as const;
    if (report.content === undefined && report.url === undefined) {
      return { ...base, status: 'unavailable', reason: 'neither content nor url given' };
    }
    let got: Awaited<ReturnType<typeof reportBytes>>;
    try {
      got = await reportBytes(report);
    } catch (err) {
      // Refused or gone for good: say so in the summary and carry on with the other reports.
      if (err instanceof UpstreamError && !err.retryable) {
        const refused = err instanceof ReportRefusedError;
        return {
          ...base,
          status: refused ? 'refused' : 'unavailable',
          reason: err.message.replace(/^\[[^\]]+\]\s*/, ''),
        };
      }
      throw err;
    }
    // Counts come from everything read, not only from what fits in the attachment.
    const text =
      report.format === 'junit' || report.format === 'sarif'
        ? Buffer.from(got.bytes).toString('utf8')
        : '';
    const parsed =
      report.format === 'junit'
        ? { junit: parseJunit(text) }
        : report.format === 'sarif'
          ? (() => {
              const sarif = parseSarif(text);
              return sarif ? { sarif } : {};
            })()
          : {};
    const original = got.cut ? Math.max(got.declared ?? 0, got.bytes.length) : got.bytes.length;
    const capped = capBytes(got.bytes, ev.maxAttachmentBytes, got.cut, original);
    const outcome = {
      ...base,
      ...parsed,
      bytes: capped.bytes.length,
      originalBytes: capped.originalBytes,
      truncated: capped.truncated,
    };
    const size = String(capped.bytes.length);
    if (existing.some((a) => a.file_name === name && a.size_bytes === size)) {
      return { ...outcome, status: 'already-attached' };
    }
    const uploaded = await client.attachment.upload({
      table: TABLE,
      sysId: cr.sys_id,
      fileName: name,
      contentType,
      data: capped.bytes,
    });
    // A second report of the same name and size in this event must not be uploaded again.
    existing.push(uploaded);
    return { ...outcome, status: 'attached' };
  }

  async function hasNote(
    client: ServiceNowClient,
    sysId: string,
    marker: string,
  ): Promise<boolean> {
    // Journal entries live in sys_journal_field (work_notes reads back empty through the Table
    // API); the integration user needs read access to it.
    const hits = await client.table.query('sys_journal_field', {
      query: `element_id=${sysId}^element=work_notes^valueLIKE${marker}`,
      limit: 1,
      fields: ['sys_id'],
    });
    return hits.length > 0;
  }

  async function onReported(
    event: TypedEvent<'dev.changegate.test.reported'>,
    ctx: HandlerContext,
  ): Promise<void> {
    const data = event.data;
    const client = servicenow.clientFor(ev.connection);
    const auditBase = {
      actor: ACTOR,
      ...(data.correlationId ? { correlationId: data.correlationId } : {}),
    };
    let cr: Awaited<ReturnType<typeof findChange>>;
    try {
      cr = await findChange(client, {
        changeNumber: data.changeNumber,
        correlationId: data.correlationId,
        ...ev.lookup,
        ...(options.sleep ? { sleep: options.sleep } : {}),
      });
    } catch (err) {
      if (err instanceof ChangeNotFoundError) {
        await bus.publish([
          auditRecord(topics.audit, {
            ...auditBase,
            key: data.changeNumber ?? data.correlationId ?? event.id,
            action: 'evidence.no-change',
            reason: err.message,
          }),
        ]);
      }
      throw err;
    }

    const existing = await client.attachment.list(TABLE, cr.sys_id, { limit: 1000 });
    const outcomes: ReportOutcome[] = [];
    for (const report of data.reports) outcomes.push(await oneReport(client, cr, report, existing));

    const marker = summaryMarker(event.source, event.id);
    const noted = await hasNote(client, cr.sys_id, marker);
    if (!noted) {
      const note = buildSummaryNote({ data, outcomes, marker, topFailures: ev.topFailures });
      await client.table.addWorkNote(TABLE, cr.sys_id, note);
    }

    const audits: AuditEntry[] = outcomes.map((o) => ({
      ...auditBase,
      key: cr.number,
      action: `evidence.${o.status}`,
      reason: o.reason ?? `${o.name} (${o.contentType})${o.truncated ? ' truncated' : ''}`,
      detail: {
        file: o.name,
        bytes: o.bytes,
        originalBytes: o.originalBytes,
        truncated: o.truncated ?? false,
      },
    }));
    audits.push({
      ...auditBase,
      key: cr.number,
      action: noted ? 'evidence.summary-exists' : 'evidence.summary',
      reason: noted ? 'summary already in the journal' : 'summary work note added',
      detail: { marker, reports: outcomes.length },
    });
    await bus.publish(audits.map((a) => auditRecord(topics.audit, a)));
    ctx.log.info(
      {
        number: cr.number,
        attached: outcomes.filter((o) => o.status === 'attached').length,
        skipped: outcomes.filter((o) => o.status !== 'attached').length,
        summary: !noted,
      },
      'evidence recorded',
    );
  }

  return {
    name: 'evidence',
    topics: [topics.cicd],
    events: eventRouter<HandlerContext>().on('dev.changegate.test.reported', onReported),
  };
}
