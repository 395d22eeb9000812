/**
 * The naive baseline: what a user writes in an afternoon. Hono on @hono/node-server, verify the
 * GitHub HMAC over the raw body, parse it, one `producer.send()` per request with acks=all, no
 * batching across requests, 202 once Kafka acknowledged. No dedupe, no envelope, no schema.
 *
 *   PORT=… KAFKA_BROKERS=… GITHUB_SECRET=… TOPIC=… tsx bench/baseline/server.ts
 *
 * @module
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { Kafka, logLevel } from 'kafkajs';

const {
  PORT = '8090',
  KAFKA_BROKERS = '127.0.0.1:39092',
  GITHUB_SECRET = '',
  TOPIC = 'github',
} = process.env;

const kafka = new Kafka({
  clientId: 'baseline',
  brokers: KAFKA_BROKERS.split(','),
  logLevel: logLevel.ERROR,
});
const producer = kafka.producer();
await producer.connect();

const app = new Hono();
app.get('/healthz', (c) => c.json({ status: 'ok' }));
app.post('/hooks/github', async (c) => {
  const body = Buffer.from(await c.req.arrayBuffer());
  const expected = Buffer.from(
    `sha256=${createHmac('sha256', GITHUB_SECRET).update(body).digest('hex')}`,
  );
  const offered = Buffer.from(c.req.header('x-hub-signature-256') ?? '');
  if (offered.length !== expected.length || !timingSafeEqual(offered, expected)) {
    return c.json({ error: 'bad signature' }, 401);
  }
  let payload: { repository?: { full_name?: string }; workflow_run?: { id?: number } };
  try {
    payload = JSON.parse(body.toString('utf8')) as typeof payload;
  } catch {
    return c.json({ error: 'bad json' }, 400);
  }
  try {
    await producer.send({
      topic: TOPIC,
      acks: -1,
      messages: [
        {
          key: `${payload.repository?.full_name}/${payload.workflow_run?.id}`,
          value: body,
          headers: {
            'x-github-event': c.req.header('x-github-event') ?? '',
            'x-github-delivery': c.req.header('x-github-delivery') ?? '',
          },
        },
      ],
    });
  } catch {
    return c.json({ error: 'kafka unavailable' }, 503);
  }
  return c.json({ status: 'accepted' }, 202);
});

const server = serve({ fetch: app.fetch, port: Number(PORT), hostname: '127.0.0.1' });
process.on('SIGTERM', () => {
  server.close();
  void producer.disconnect().finally(() => process.exit(0));
});
