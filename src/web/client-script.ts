/**
 * The page's only script, inlined (no external assets). It opens one Server-Sent Events
 * connection and swaps the sections the server re-renders; EventSource reconnects on its own,
 * so there is no polling loop. Decision buttons (sandbox demo) post with fetch so the page is
 * not reloaded; without script the forms still work as plain POSTs.
 */
export const CLIENT_SCRIPT = `
(() => {
  const live = document.getElementById('live');
  const source = new EventSource(document.body.dataset.events);
  source.addEventListener('update', (e) => {
    const message = JSON.parse(e.data);
    for (const [id, markup] of Object.entries(message.sections)) {
      const section = document.getElementById(id);
      if (section) section.innerHTML = markup;
    }
    live.dataset.state = 'live';
    live.textContent = 'Live · updated ' + message.time.slice(11, 19) + ' UTC';
  });
  source.addEventListener('open', () => {
    live.dataset.state = 'live';
    live.textContent = 'Live';
  });
  source.addEventListener('error', () => {
    live.dataset.state = source.readyState === EventSource.CLOSED ? 'closed' : 'reconnecting';
    live.textContent =
      source.readyState === EventSource.CLOSED ? 'Disconnected: reload the page' : 'Reconnecting…';
  });
  document.addEventListener('submit', async (e) => {
    const form = e.target;
    if (!form.classList || !form.classList.contains('decide')) return;
    e.preventDefault();
    for (const b of form.querySelectorAll('button')) b.disabled = true;
    const res = await fetch(form.action, { method: 'POST', credentials: 'same-origin' });
    live.textContent = res.ok ? 'Sent to the ServiceNow sandbox; waiting for its push…' : 'Failed: ' + res.status;
  });
})();
`;
