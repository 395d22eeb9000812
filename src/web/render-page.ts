import { html, raw } from 'hono/html';
import { CLIENT_SCRIPT } from './client-script.js';
import { renderSections, type Fragment, type RenderOptions } from './render-sections.js';
import type { StatusSnapshot } from './status-source.js';
import { PAGE_STYLE } from './style.js';

export interface PageOptions extends RenderOptions {
  /** Per-response CSP nonce for the inline style and script. */
  nonce: string;
}

/** The whole status page, server-rendered; the script then keeps it live. */
export function renderPage(snapshot: StatusSnapshot, options: PageOptions): Fragment {
  const sections = renderSections(snapshot, options);
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>changegate status</title>
        <style nonce="${options.nonce}">
          ${raw(PAGE_STYLE)}
        </style>
      </head>
      <body data-events="${options.base}/events">
        <a class="skip" href="#gates-title">Skip to gates</a>
        <header>
          <h1>changegate status</h1>
          <p class="mode">
            ${
              options.actions
                ? 'Sandbox demo: the buttons decide in the ServiceNow sandbox, which pushes the update back.'
                : 'Read-only.'
            }
          </p>
          <p id="live" role="status" aria-live="polite" data-state="connecting">Connecting…</p>
        </header>
        <main>
          <section aria-label="Summary"><div id="summary">${sections.summary}</div></section>
          <section aria-labelledby="gates-title">
            <h2 id="gates-title" tabindex="-1">Gates</h2>
            <div id="gates" class="scroll">${sections.gates}</div>
          </section>
          <section aria-labelledby="changes-title">
            <h2 id="changes-title">Recent changes</h2>
            <div id="changes" class="scroll">${sections.changes}</div>
          </section>
          <section aria-labelledby="incidents-title">
            <h2 id="incidents-title">Incidents</h2>
            <div id="incidents" class="scroll">${sections.incidents}</div>
          </section>
          <section aria-labelledby="dlq-title">
            <h2 id="dlq-title">Dead-letter queue</h2>
            <div id="dlq" class="scroll">${sections.dlq}</div>
          </section>
        </main>
        <script nonce="${options.nonce}">
          ${raw(CLIENT_SCRIPT)};
        </script>
      </body>
    </html>`;
}

/** The 401 page: what is missing and a form to type the token into. */
export function renderSignIn(options: { base: string; nonce: string; wrong: boolean }): Fragment {
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>changegate status: sign in</title>
        <style nonce="${options.nonce}">
          ${raw(PAGE_STYLE)}
        </style>
      </head>
      <body>
        <main class="narrow">
          <h1>changegate status</h1>
          <p role="alert">
            ${
              options.wrong
                ? 'That token is not valid.'
                : 'This page needs the status token (web.token in the changegate configuration).'
            }
          </p>
          <form method="post" action="${options.base}/session">
            <label for="token">Status token</label>
            <input
              id="token"
              name="token"
              type="password"
              autocomplete="current-password"
              required
            />
            <button type="submit">Open the status page</button>
          </form>
        </main>
      </body>
    </html>`;
}
