import { html } from 'hono/html';
import type { HtmlEscapedString } from 'hono/utils/html';
import { stateName } from './change-activity.js';
import type { GateView, StatusSnapshot } from './status-source.js';
import { gateLabel } from './waiting-for.js';

/** Markup of one live section; hono's `html` escapes every interpolated value. */
export type Fragment = HtmlEscapedString | Promise<HtmlEscapedString>;

/** The ids of the sections the page swaps in place when an update arrives. */
export const SECTION_IDS = ['summary', 'gates', 'changes', 'incidents', 'dlq'] as const;
export type SectionId = (typeof SECTION_IDS)[number];

export interface RenderOptions {
  /** Path the page is mounted at, for form actions. */
  base: string;
  /** Approve/reject buttons (sandbox demo only). */
  actions: boolean;
}

/** `<time>` with the machine value and a short UTC reading. */
const time = (iso: string | undefined) =>
  iso ? html`<time datetime="${iso}">${iso.slice(0, 10)} ${iso.slice(11, 19)} UTC</time>` : html`–`;

const empty = (columns: number, text: string) =>
  html`<tr>
    <td colspan="${columns}" class="empty">${text}</td>
  </tr>`;

/** Every live section of the page, rendered from one snapshot. */
export function renderSections(
  snapshot: StatusSnapshot,
  options: RenderOptions,
): Record<SectionId, Fragment> {
  return {
    summary: renderSummary(snapshot),
    gates: renderGates(snapshot.gates, options),
    changes: renderChanges(snapshot),
    incidents: renderIncidents(snapshot),
    dlq: renderDlq(snapshot),
  };
}

function renderSummary(s: StatusSnapshot): Fragment {
  const waiting = s.gates.filter((g) => g.status === 'waiting' || g.status === 'deciding').length;
  const open = s.incidents.filter((i) => i.status === 'open').length;
  return html`<ul class="summary">
    <li><strong>${waiting}</strong> ${waiting === 1 ? 'gate' : 'gates'} waiting</li>
    <li><strong>${open}</strong> open ${open === 1 ? 'incident' : 'incidents'}</li>
    <li class="${s.dlq.size > 0 ? 'alert' : ''}">
      <strong>${s.dlq.size}</strong> in the dead-letter queue
    </li>
  </ul>`;
}

function renderGates(gates: GateView[], options: RenderOptions): Fragment {
  const columns = options.actions ? 6 : 5;
  return html`<table>
    <caption class="visually-hidden">
      Gates: deployments held until their change request allows them
    </caption>
    <thead>
      <tr>
        <th scope="col">Change</th>
        <th scope="col">Deployment</th>
        <th scope="col">Status</th>
        <th scope="col">Why</th>
        <th scope="col">Registered</th>
        ${options.actions ? html`<th scope="col">Decide (sandbox)</th>` : ''}
      </tr>
    </thead>
    <tbody>
      ${
        gates.length === 0
          ? empty(columns, 'No gates yet.')
          : gates.map((g) => renderGate(g, options))
      }
    </tbody>
  </table>`;
}

/**
 * Only http(s) URLs become links: escaping keeps a URL inside its attribute, it does not stop
 * `javascript:` from running when clicked. The event schemas refuse other schemes already; the
 * page does not rely on every producer having been checked.
 */
function linkable(url: string | undefined): url is string {
  if (!url) return false;
  try {
    const { protocol } = new URL(url);
    return protocol === 'https:' || protocol === 'http:';
  } catch {
    return false;
  }
}

function renderGate(g: GateView, options: RenderOptions): Fragment {
  const label = gateLabel(g.status, g.waitingFor);
  const deployment = html`${g.project} → ${g.environment}
    <span class="muted">(${g.provider})</span>`;
  return html`<tr data-gate-id="${g.gateId}" data-status="${g.status}">
    <th scope="row">${g.changeNumber}</th>
    <td>${linkable(g.runUrl) ? html`<a href="${g.runUrl}">${deployment}</a>` : deployment}</td>
    <td><span class="badge ${g.status}">${label}</span></td>
    <td>
      ${g.reason}
      ${
        g.changeState !== undefined
          ? html`<br /><span class="muted"
                >CR state ${stateName(g.changeState)}, approval ${g.approval ?? 'unknown'}</span
              >`
          : ''
      }
    </td>
    <td>${time(g.registeredAt)}</td>
    ${
      options.actions
        ? html`<td>
            ${g.status === 'waiting' && g.waitingFor === 'approval' ? decide(g, options) : ''}
          </td>`
        : ''
    }
  </tr>`;
}

function decide(g: GateView, { base }: RenderOptions): Fragment {
  const path = `${base}/changes/${encodeURIComponent(g.changeNumber)}`;
  return html`<form method="post" action="${path}/approve" class="decide">
      <button type="submit" aria-label="Approve ${g.changeNumber}">Approve</button>
    </form>
    <form method="post" action="${path}/reject" class="decide">
      <button type="submit" class="reject" aria-label="Reject ${g.changeNumber}">Reject</button>
    </form>`;
}

function renderChanges(s: StatusSnapshot): Fragment {
  return html`<table>
    <caption class="visually-hidden">
      Recent change events, newest first
    </caption>
    <thead>
      <tr>
        <th scope="col">When</th>
        <th scope="col">Change</th>
        <th scope="col">Event</th>
        <th scope="col">What happened</th>
      </tr>
    </thead>
    <tbody>
      ${
        s.changes.length === 0
          ? empty(4, 'No change events yet.')
          : s.changes.map(
              (c) =>
                html`<tr>
                  <td>${time(c.at)}</td>
                  <th scope="row">${c.changeNumber}</th>
                  <td><code>${c.kind}</code></td>
                  <td>${c.summary}</td>
                </tr>`,
            )
      }
    </tbody>
  </table>`;
}

function renderIncidents(s: StatusSnapshot): Fragment {
  return html`<table>
    <caption class="visually-hidden">
      Incidents changegate filed, newest first
    </caption>
    <thead>
      <tr>
        <th scope="col">Incident</th>
        <th scope="col">Status</th>
        <th scope="col">Failures</th>
        <th scope="col">Why</th>
        <th scope="col">Last update</th>
      </tr>
    </thead>
    <tbody>
      ${
        s.incidents.length === 0
          ? empty(5, 'No incidents filed.')
          : s.incidents.map(
              (i) =>
                html`<tr>
                  <th scope="row">${i.number}</th>
                  <td>
                    <span class="badge ${i.status === 'open' ? 'rejected' : 'released'}"
                      >${i.status}</span
                    >
                  </td>
                  <td>${i.count}</td>
                  <td>
                    ${i.reason}${
                      i.changeNumber
                        ? html`<br /><span class="muted">related change ${i.changeNumber}</span>`
                        : ''
                    }
                  </td>
                  <td>${time(i.at)}</td>
                </tr>`,
            )
      }
    </tbody>
  </table>`;
}

function renderDlq(s: StatusSnapshot): Fragment {
  return html`<p>
      <strong>${s.dlq.size}</strong> ${s.dlq.size === 1 ? 'record' : 'records'} in the dead-letter
      topic (within its retention).
    </p>
    ${
      s.dlq.recent.length === 0
        ? ''
        : html`<table>
            <caption class="visually-hidden">
              Latest dead letters
            </caption>
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Worker</th>
                <th scope="col">From</th>
                <th scope="col">Key</th>
                <th scope="col">Error</th>
              </tr>
            </thead>
            <tbody>
              ${s.dlq.recent.map(
                (d) =>
                  html`<tr>
                    <td>${time(d.at)}</td>
                    <td>${d.worker}</td>
                    <td><code>${d.originTopic}</code></td>
                    <td><code>${d.key ?? '–'}</code></td>
                    <td>${d.error}</td>
                  </tr>`,
              )}
            </tbody>
          </table>`
    }`;
}
