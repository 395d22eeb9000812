/**
 * Signed GitHub `workflow_run` deliveries for the load generator, built from the real fixture
 * (test/fixtures/github/workflow_run.completed.json, ~20 KB as GitHub sends it: compact JSON).
 *
 * Variants differ in the run id (so keys spread over partitions like real traffic from many
 * pipelines). The receiver dedupes GitHub deliveries on their signed bytes as well as on
 * `X-GitHub-Delivery` (a body sent twice is a replay), so each request gets a body of its own:
 * `unique(n, id)` adds one top-level key naming the request and signs it (~20 µs per 20 KB).
 *
 * @module
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { toRecord } from '../../src/bus/cloudevents.js';
import { buildEvent } from '../../src/events/build.js';
import { githubReceiver } from '../../src/receivers/github/index.js';
import { signGithub } from '../../src/receivers/github/sign.js';
import { ROOT } from './process.js';

export const BENCH_SECRET = 'bench-github-secret-0123456';

export interface SignedBody {
  body: string;
  signature: string;
}

export interface DeliverySet {
  bodies: SignedBody[];
  /** Body `n` (a variant) with `id` added, so distinct from every other request's; signed. */
  unique(n: number, id: string): SignedBody;
  /** Bytes of one body (they are all within a few bytes of each other). */
  bodyBytes: number;
}

function fixture(): Record<string, unknown> {
  const path = join(ROOT, 'test/fixtures/github/workflow_run.completed.json');
  return JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
}

/**
 * `variants` signed bodies. With `targetBytes`, the commit message is padded (or the payload
 * used as is when it is already larger) so each body is about that size.
 */
export function githubDeliveries(variants = 256, targetBytes?: number): DeliverySet {
  const base = fixture();
  const bodies: SignedBody[] = [];
  for (let i = 0; i < variants; i++) {
    const payload = structuredClone(base) as {
      workflow_run: { id: number; head_commit?: { message?: string } };
    } & Record<string, unknown>;
    payload.workflow_run.id = 9_000_000_000 + i;
    let body = JSON.stringify(payload);
    if (targetBytes !== undefined) body = resize(payload, body, targetBytes);
    bodies.push({ body, signature: signGithub(BENCH_SECRET, new TextEncoder().encode(body)) });
  }
  const unique = (n: number, id: string): SignedBody => {
    const { body: base } = bodies[n % bodies.length]!;
    const body = `${base.slice(0, -1)},"bench_request":${JSON.stringify(id)}}`;
    return { body, signature: signGithub(BENCH_SECRET, Buffer.from(body)) };
  };
  return { bodies, unique, bodyBytes: Buffer.byteLength(bodies[0]!.body) };
}

/** Pad or shrink the payload to about `target` bytes while keeping it a valid workflow_run. */
function resize(
  payload: { workflow_run: Record<string, unknown> } & Record<string, unknown>,
  body: string,
  target: number,
): string {
  const size = Buffer.byteLength(body);
  if (size > target) {
    // Keep what the normalizer reads; drop the bulky repository/organization/sender objects.
    const slim = {
      action: payload.action,
      workflow: { name: (payload.workflow as { name?: string } | undefined)?.name },
      workflow_run: pick(payload.workflow_run, [
        'id',
        'name',
        'head_branch',
        'head_sha',
        'run_number',
        'run_attempt',
        'event',
        'status',
        'conclusion',
        'html_url',
        'created_at',
        'updated_at',
        'run_started_at',
      ]),
      repository: pick(payload.repository as Record<string, unknown>, [
        'id',
        'name',
        'full_name',
        'html_url',
      ]),
      sender: { login: 'octocat' },
    };
    const slimBody = JSON.stringify(slim);
    return pad(slim, slimBody, target);
  }
  return pad(payload, body, target);
}

function pad(payload: Record<string, unknown>, body: string, target: number): string {
  const missing = target - Buffer.byteLength(body) - ',"bench_padding":""'.length;
  if (missing <= 0) return body;
  return JSON.stringify({ ...payload, bench_padding: 'x'.repeat(missing) });
}

function pick(o: Record<string, unknown>, keys: string[]): Record<string, unknown> {
  return Object.fromEntries(keys.filter((k) => k in o).map((k) => [k, o[k]]));
}

/**
 * What changegate writes to Kafka for one of these deliveries, computed with the production
 * receiver and envelope code: the event's value size and the size of key + headers.
 */
export async function changegateRecordBytes(
  body: string,
): Promise<{ value: number; total: number }> {
  const request = {
    headers: new Headers({ 'x-github-event': 'workflow_run' }),
    body: new TextEncoder().encode(body),
    params: {},
    deliveryId: '0f4d5c6e-0000-4000-8000-000000000000',
    json: JSON.parse(body) as unknown,
  };
  const now = new Date();
  const normalized = await githubReceiver.normalize(request, {
    now,
    rawMaxBytes: 256 * 1024,
    seal: () => Promise.resolve(''),
  });
  if (normalized.kind !== 'events') throw new Error('[bench] fixture did not normalize to events');
  let value = 0;
  let total = 0;
  for (const n of normalized.events) {
    const event = buildEvent(n, {
      id: request.deliveryId,
      source: '/changegate/github',
      time: now,
    });
    const record = toRecord('changegate.cicd.events', event);
    value += record.value?.length ?? 0;
    total += (record.value?.length ?? 0) + (record.key?.length ?? 0);
    for (const [k, v] of Object.entries(record.headers)) total += k.length + v.length;
  }
  return { value, total };
}
