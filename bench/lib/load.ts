/**
 * The load generator: autocannon, programmatic, against 127.0.0.1 only. Every request is a
 * signed GitHub delivery with a unique `X-GitHub-Delivery`; latency is taken per response from
 * autocannon's own timer (sub-millisecond, unlike its integer-ms histogram) and summarized here.
 *
 * @module
 */
import autocannon from 'autocannon';
import { distribution, type Distribution } from './stats.js';
import type { DeliverySet } from './github-deliveries.js';

export interface LoadOptions {
  /** `http://127.0.0.1:<port>` */
  url: string;
  path?: string;
  deliveries: DeliverySet;
  connections: number;
  durationS: number;
  /** Fixed overall request rate (open-ish loop); unset = as fast as the server answers. */
  rate?: number;
  /** Unique per run so deliveries never collide with an earlier run's dedupe window. */
  runId: string;
}

export interface LoadResult {
  /** Requests answered 202 (accepted and acknowledged by Kafka) per second. */
  acceptedPerSecond: number;
  accepted: number;
  /** Anything but 202: duplicates (200), 503s, errors, timeouts. */
  other: number;
  statuses: Record<string, number>;
  latency: Distribution;
  seconds: number;
}

/** Drive `deliveries` at the server for `durationS` seconds with `connections` in flight. */
export function runLoad(options: LoadOptions): Promise<LoadResult> {
  const { url, path = '/hooks/github', deliveries, connections, durationS, rate, runId } = options;
  let seq = 0;
  const latencies: number[] = [];
  const statuses: Record<string, number> = {};
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url,
        connections,
        duration: durationS,
        timeout: 30,
        ...(rate ? { overallRate: rate } : {}),
        requests: [
          {
            method: 'POST',
            path,
            setupRequest: (request) => {
              const n = seq++;
              const { body, signature } = deliveries.unique(n, `${runId}-${n}`);
              return {
                ...request,
                method: 'POST',
                path,
                body,
                headers: {
                  'content-type': 'application/json',
                  'user-agent': 'GitHub-Hookshot/bench',
                  'x-github-event': 'workflow_run',
                  'x-github-delivery': `${runId}-${n}`,
                  'x-hub-signature-256': signature,
                },
              };
            },
          },
        ],
      },
      (err, result) => {
        if (err) return reject(err);
        const seconds = (performance.now() - started) / 1000;
        const accepted = statuses['202'] ?? 0;
        const answered = Object.values(statuses).reduce((a, b) => a + b, 0);
        resolve({
          acceptedPerSecond: accepted / Math.min(seconds, result.duration || seconds),
          accepted,
          other: answered - accepted + result.errors + result.timeouts,
          statuses: { ...statuses, ...(result.errors ? { errors: result.errors } : {}) },
          latency: distribution(latencies),
          seconds,
        });
      },
    );
    instance.on('response', (_client: unknown, status: number, _bytes: number, ms: number) => {
      statuses[status] = (statuses[status] ?? 0) + 1;
      if (status === 202) latencies.push(ms);
    });
  });
}
