import { z } from 'zod';
import { ServiceNowSchema } from './servicenow.js';
import { ChangesSchema, GatesSchema, gateTimeoutIssues } from './changes.js';
import { CiSchema } from './ci.js';
import { IncidentsSchema } from './incident.js';
import { CmdbSchema } from './cmdb.js';
import { EvidenceSchema } from './evidence.js';
import { NotifySchema } from './notify.js';
import { WebSchema } from './web.js';
import { AuditSchema } from './audit.js';
import { sourcesShape } from '../providers/config-sections.js';

export { SECOND, MINUTE, HOUR, MIB, WhsecSchema } from './primitives.js';
import { HOUR, Key256Schema, MIB, SECOND } from './primitives.js';

// Each provider's receiver secrets, from its `src/providers/<name>/config.ts`.
export const SourcesSchema = z.object({ ...sourcesShape() }).prefault({});

export const TopicsSchema = z
  .object({
    cicd: z.string().default('changegate.cicd.events'),
    changes: z.string().default('changegate.changes'),
    servicenow: z.string().default('changegate.servicenow.events'),
    /** The gate worker's changelog (state kit envelopes), co-partitioned with `changes`. */
    gateState: z.string().default('changegate.gate-changelog'),
    audit: z.string().default('changegate.audit'),
    dlq: z.string().default('changegate.dlq'),
    deliveries: z.string().default('changegate.deliveries'),
    /** Hash-chained audit ledger written by the `audit` worker (never compacted). */
    auditLedger: z.string().default('changegate.audit-ledger'),
    /** Signed checkpoints of the ledger's chain heads (one partition, never compacted). */
    auditCheckpoints: z.string().default('changegate.audit-checkpoints'),
    /** Compacted markers of the DLQ records `changegate replay` has re-published. */
    dlqReplayed: z.string().default('changegate.dlq-replayed'),
    /** Compacted: how far `changegate recover <source>` got, one record per source. */
    recovery: z.string().default('changegate.recovery'),
  })
  .prefault({});

export const KafkaSchema = z
  .object({
    brokers: z.array(z.string().regex(/^[^:]+:\d+$/, 'must be host:port')).default([]),
    clientId: z.string().default('changegate'),
    /** Consumer groups are `<groupPrefix>-<worker>`: two installations on one cluster need two prefixes. */
    groupPrefix: z.string().min(1).default('changegate'),
    /** Partitions a worker handles at once; order is kept per partition (and so per key). */
    consumeConcurrency: z.number().int().positive().max(64).default(4),
    ssl: z.boolean().default(false),
    sasl: z
      .object({
        mechanism: z.enum(['plain', 'scram-sha-256', 'scram-sha-512']),
        username: z.string().min(1),
        password: z.string().min(1),
      })
      .optional(),
    partitions: z.number().int().positive().default(6),
    /** -1 lets the broker's default.replication.factor decide. */
    replicationFactor: z.number().int().default(-1),
    topics: TopicsSchema,
  })
  .prefault({});

export const IngestSchema = z
  .object({
    maxBodyBytes: z
      .number()
      .int()
      .positive()
      .default(1 * MIB),
    /** Raw provider payloads larger than this are not copied into the event. */
    rawMaxBytes: z
      .number()
      .int()
      .nonnegative()
      .default(256 * 1024),
    toleranceSeconds: z.number().int().positive().default(300),
    dedupeWindowMs: z
      .number()
      .int()
      .positive()
      .default(72 * HOUR),
    dedupeMaxEntries: z.number().int().positive().default(1_000_000),
    /** 0: batch what arrives in one event-loop turn, plus everything that queues while a batch is in flight. */
    lingerMs: z.number().nonnegative().max(50).default(0),
    maxBatchRecords: z.number().int().positive().default(500),
    maxBatchBytes: z.number().int().positive().default(900_000),
    /** Past this the sender gets 503 and redelivers. Azure DevOps checks must be answered in 3 s. */
    publishTimeoutMs: z
      .number()
      .int()
      .positive()
      .default(5 * SECOND),
    /**
     * Per-source token bucket in front of the receivers (source = route source + client
     * address); a flooding sender gets 429 with Retry-After. Off unless set.
     */
    rateLimit: z
      .object({
        perSourcePerSecond: z.number().positive(),
        burst: z.number().int().positive(),
      })
      .optional(),
    /**
     * The receiver's durable spool: deliveries the bus does not acknowledge within
     * `publishTimeoutMs` are fsynced here, answered 202, and forwarded once Kafka is writable.
     */
    spool: z
      .object({
        enabled: z.boolean().default(true),
        /**
         * One directory per receiver, on a persistent volume. Default `data/spool/<port>` under
         * the working directory; with the in-memory bus or port 0, a temporary directory.
         */
        dir: z.string().min(1).optional(),
        /** Past this the receiver answers 503 again (as without a spool). */
        maxBytes: z
          .number()
          .int()
          .positive()
          .default(256 * MIB),
        segmentBytes: z
          .number()
          .int()
          .positive()
          .default(16 * MIB),
      })
      .prefault({}),
  })
  .prefault({});

export const ServerSchema = z
  .object({
    port: z.number().int().min(0).max(65535).default(8080),
    host: z.string().default('0.0.0.0'),
    shutdownGraceMs: z
      .number()
      .int()
      .positive()
      .default(10 * SECOND),
    /** A client must finish its request headers within this (Node's default is 60 s). */
    headersTimeoutMs: z
      .number()
      .int()
      .positive()
      .default(10 * SECOND),
    /** …and its whole request, body included (Node's default is 300 s): cuts slow bodies. */
    requestTimeoutMs: z
      .number()
      .int()
      .positive()
      .default(30 * SECOND),
    /** Open connections at most; more are closed on accept (Node's default: unlimited). */
    maxConnections: z.number().int().positive().default(1024),
  })
  .superRefine((s, ctx) => {
    if (s.headersTimeoutMs > s.requestTimeoutMs)
      ctx.addIssue({
        code: 'custom',
        path: ['headersTimeoutMs'],
        message: 'must not exceed requestTimeoutMs',
      });
  })
  .prefault({});

export const ConfigSchema = z
  .object({
    server: ServerSchema,
    sources: SourcesSchema,
    ingest: IngestSchema,
    kafka: KafkaSchema,
    servicenow: ServiceNowSchema,
    changes: ChangesSchema,
    gates: GatesSchema,
    ci: CiSchema,
    evidence: EvidenceSchema,
    notify: NotifySchema,
    incidents: IncidentsSchema,
    cmdb: CmdbSchema,
    web: WebSchema,
    audit: AuditSchema,
    /** `memory` is the embedded bus: for trying changegate out and tests, not production. */
    bus: z.enum(['kafka', 'memory']).default('kafka'),
    log: z
      .object({
        level: z
          .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
          .default('info'),
      })
      .prefault({}),
    security: z
      .object({
        /** base64 of 32 bytes; seals callback credentials (JWE dir + A256GCM) before Kafka. */
        encryptionKey: Key256Schema.optional(),
      })
      .default({}),
  })
  .superRefine((c, ctx) => {
    // Receivers and workers run apart on Kafka: a key made up per process would seal callback
    // credentials no other process can open (the embedded mode makes one and says so).
    if (c.bus === 'kafka' && !c.security.encryptionKey) {
      ctx.addIssue({
        code: 'custom',
        path: ['security', 'encryptionKey'],
        message:
          'required with the Kafka bus: set CHANGEGATE_ENCRYPTION_KEY to base64 of 32 random bytes (openssl rand -base64 32)',
      });
    }
    if (c.bus === 'kafka' && c.kafka.brokers.length === 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['kafka', 'brokers'],
        message: 'no Kafka brokers: set KAFKA_BROKERS (or kafka.brokers) or run with --embedded',
      });
    }
    for (const issue of gateTimeoutIssues(c.changes, c.gates)) {
      ctx.addIssue({ code: 'custom', ...issue });
    }
  });

export type Config = z.infer<typeof ConfigSchema>;
export type ConfigInput = z.input<typeof ConfigSchema>;
export type SourcesConfig = Config['sources'];
