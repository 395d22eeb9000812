import type { SSEStreamingApi } from 'hono/streaming';
import type { Logger } from '../log.js';
import { renderSections, SECTION_IDS, type RenderOptions } from './render-sections.js';
import type { StatusSource } from './status-source.js';

/** Bursts (a replay at start, a decision's several records) become one push. */
const COALESCE_MS = 25;
/** A comment line this often keeps proxies from closing an idle stream. */
const KEEPALIVE_MS = 25_000;

interface Client {
  stream: SSEStreamingApi;
  leave: () => void;
}

/**
 * Pushes re-rendered sections to every open page over Server-Sent Events. Renders once per
 * change burst for all clients, not once per client.
 */
export class LiveUpdates {
  private readonly clients = new Set<Client>();
  private readonly unsubscribe: () => void;
  private readonly keepalive: NodeJS.Timeout;
  private pending: NodeJS.Timeout | undefined;
  private version = 0;
  private closed = false;

  constructor(
    private readonly source: StatusSource,
    private readonly render: RenderOptions,
    private readonly log: Logger,
  ) {
    this.unsubscribe = source.onChange(() => this.schedule());
    this.keepalive = setInterval(() => {
      for (const client of this.clients)
        void this.send(client, () => client.stream.write(': keepalive\n\n'));
    }, KEEPALIVE_MS);
    this.keepalive.unref();
  }

  get size(): number {
    return this.clients.size;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Serve one stream until the client goes away or the page closes. */
  async serve(stream: SSEStreamingApi): Promise<void> {
    if (this.closed) return;
    let leave!: () => void;
    const gone = new Promise<void>((resolve) => (leave = resolve));
    const client: Client = { stream, leave };
    this.clients.add(client);
    stream.onAbort(() => leave());
    // The page may have rendered before the latest change: start every stream with the present.
    await this.send(client, async () => stream.writeSSE(await this.message(2000)));
    await gone;
    this.clients.delete(client);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.unsubscribe();
    clearInterval(this.keepalive);
    clearTimeout(this.pending);
    for (const client of this.clients) client.leave();
    this.clients.clear();
    // Let the ended responses flush, so the HTTP server sees idle connections when it closes.
    await new Promise((resolve) => setImmediate(resolve));
  }

  private schedule(): void {
    if (this.pending || this.closed) return;
    this.pending = setTimeout(() => {
      this.pending = undefined;
      void this.broadcast();
    }, COALESCE_MS);
  }

  private async broadcast(): Promise<void> {
    if (this.clients.size === 0) return;
    const message = await this.message();
    for (const client of this.clients)
      void this.send(client, () => client.stream.writeSSE(message));
  }

  private async message(retry?: number) {
    const sections = renderSections(this.source.snapshot(), this.render);
    const rendered: Record<string, string> = {};
    for (const id of SECTION_IDS) rendered[id] = String(await sections[id]);
    this.version += 1;
    return {
      event: 'update',
      id: String(this.version),
      data: JSON.stringify({ time: new Date().toISOString(), sections: rendered }),
      ...(retry !== undefined ? { retry } : {}),
    };
  }

  /** A write to a client that went away fails; that client is dropped, the others go on. */
  private async send(client: Client, write: () => Promise<unknown>): Promise<void> {
    try {
      await write();
    } catch (err) {
      this.log.debug({ err }, 'status page stream closed');
      client.leave();
    }
  }
}
