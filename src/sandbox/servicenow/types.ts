/**
 * Public and shared types of the ServiceNow sandbox.
 *
 * @module
 */

/** A stored record: ServiceNow hands every field over the wire as a string. */
export type SnRecord = Record<string, string>;

/** A user the sandbox accepts for Basic auth and the OAuth password grant. */
export interface SandboxUser {
  username: string;
  password: string;
  roles: string[];
}

/** One outbound business-rule target (the changegate `/hooks/servicenow` URL). */
export interface OutboundTarget {
  url: string;
  /** Standard Webhooks secret, `whsec_<base64>`. */
  secret: string;
}

/** A standard change template (`std_change_record_producer`) and the fields it applies. */
export interface ChangeTemplate {
  name: string;
  fields: Record<string, string>;
}

export type FaultKind =
  '429' | '500' | '503' | 'latency' | 'timeout' | 'reset-after-commit' | 'drop-outbound';

/** Where and how often a fault fires. */
export interface FaultSpec {
  kind: FaultKind;
  /** HTTP method, `*` (default) for any. Outbound faults match `POST`. */
  method?: string;
  /** Path glob (`*` = any run of characters), default `*`. Outbound faults match the target URL. */
  path?: string;
  /** Fire this many times, then disappear. Default: unlimited. */
  count?: number;
  /** Fire with this probability (0..1) per matching request. Default 1. */
  probability?: number;
  /** `latency`: delay before handling. Default 1000 ms. */
  latencyMs?: number;
  /** `429`/`503`: `Retry-After` seconds. Default 1. */
  retryAfterSeconds?: number;
}

export interface ActiveFault extends FaultSpec {
  id: string;
  /** How many times it fired so far. */
  hits: number;
}

/** Controls injected faults, in-process or through `/sandbox/admin/faults`. */
export interface FaultControl {
  /** Add a fault; returns its id. */
  inject(spec: FaultSpec): string;
  /** Remove one fault by id, or all of them. */
  clear(id?: string): void;
  list(): ActiveFault[];
}

/** One business-rule delivery attempt, as recorded by the sandbox. */
export interface OutboundRecord {
  id: string;
  url: string;
  table: string;
  sysId: string;
  type: string;
  headers: Record<string, string>;
  body: string;
  at: string;
  /** HTTP status the target answered; undefined when dropped or the request failed. */
  status?: number;
  dropped: boolean;
  error?: string;
}

/** One request the sandbox served (or refused), for assertions like "exactly one POST". */
export interface RequestLogEntry {
  method: string;
  path: string;
  query: string;
  /** 0 when the connection was reset or never answered. */
  status: number;
  fault?: string;
  at: string;
  user?: string;
}
