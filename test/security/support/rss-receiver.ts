import { startTestReceiver } from '../../support/receiver.js';

/**
 * A receiver in a process of its own, so a test can measure its resident memory: it prints its
 * URL as one JSON line, samples RSS every 10 ms and serves `GET /test/rss` → `{ rss, peak }`
 * (peak since the last call). Secrets are throwaway values of this process.
 */
const whsec = `whsec_${Buffer.alloc(32, 9).toString('base64')}`;
let peak = process.memoryUsage().rss;
setInterval(() => {
  peak = Math.max(peak, process.memoryUsage().rss);
}, 10).unref();
const receiver = await startTestReceiver({
  config: { web: { token: 'status-token-of-this-test-process' } },
  sources: {
    github: { secrets: ['github-secret-of-this-test-process'] },
    generic: { '*': { secrets: [whsec] } },
  },
  extend: (app) =>
    app.get('/test/rss', (c) => {
      const rss = process.memoryUsage().rss;
      const answer = { rss, peak: Math.max(peak, rss) };
      peak = rss;
      return c.json(answer);
    }),
});
process.stdout.write(`${JSON.stringify({ url: receiver.url })}\n`);
process.on('SIGTERM', () => void receiver.close().then(() => process.exit(0)));
