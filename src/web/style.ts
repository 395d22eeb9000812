/** The page's stylesheet, inlined: no external assets, system fonts, light and dark. */
export const PAGE_STYLE = `
:root { color-scheme: light dark; --fg: #1b1f24; --bg: #ffffff; --muted: #57606a; --line: #d0d7de;
  --ok: #116329; --ok-bg: #dafbe1; --bad: #a40e26; --bad-bg: #ffebe9; --wait: #7d4e00; --wait-bg: #fff8c5;
  --focus: #0969da; }
@media (prefers-color-scheme: dark) {
  :root { --fg: #e6edf3; --bg: #0d1117; --muted: #9198a1; --line: #30363d; --ok: #3fb950; --ok-bg: #12261e;
    --bad: #ff7b72; --bad-bg: #2d1214; --wait: #e3b341; --wait-bg: #2b2111; --focus: #4493f8; }
}
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: var(--bg); }
header, main { max-width: 72rem; margin: 0 auto; padding: 0 1rem; }
header { display: flex; flex-wrap: wrap; align-items: baseline; gap: 0 1.5rem; border-bottom: 1px solid var(--line); }
h1 { font-size: 1.5rem; margin: 1rem 0 0.5rem; }
h2 { font-size: 1.2rem; margin: 1.5rem 0 0.5rem; }
.mode, .muted { color: var(--muted); }
#live { margin-left: auto; font-weight: 600; }
#live[data-state="live"]::before { content: "● "; color: var(--ok); }
#live[data-state="reconnecting"]::before, #live[data-state="closed"]::before { content: "● "; color: var(--bad); }
.summary { display: flex; flex-wrap: wrap; gap: 1.5rem; list-style: none; padding: 0; margin: 1rem 0 0; }
.summary .alert { color: var(--bad); }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; vertical-align: top; padding: 0.4rem 0.6rem; border-bottom: 1px solid var(--line); }
thead th { font-size: 0.85rem; text-transform: uppercase; letter-spacing: 0.03em; color: var(--muted); }
tbody th { white-space: nowrap; }
td.empty { color: var(--muted); font-style: italic; }
.badge { display: inline-block; padding: 0 0.5rem; border-radius: 1rem; font-weight: 600; white-space: nowrap; }
.badge.waiting, .badge.deciding { color: var(--wait); background: var(--wait-bg); }
.badge.released { color: var(--ok); background: var(--ok-bg); }
.badge.rejected, .badge.expired { color: var(--bad); background: var(--bad-bg); }
form.decide { display: inline; }
button { font: inherit; padding: 0.2rem 0.8rem; border-radius: 0.4rem; border: 1px solid var(--line); background: var(--ok-bg); color: var(--ok); cursor: pointer; }
button.reject { background: var(--bad-bg); color: var(--bad); }
button:disabled { opacity: 0.5; cursor: wait; }
a { color: var(--focus); }
:focus-visible { outline: 3px solid var(--focus); outline-offset: 2px; }
.visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
.skip { position: absolute; left: -999px; }
.skip:focus { left: 1rem; top: 1rem; background: var(--bg); padding: 0.5rem; }
.narrow { max-width: 28rem; }
.narrow form { display: grid; gap: 0.5rem; }
.narrow input { font: inherit; padding: 0.4rem; border: 1px solid var(--line); border-radius: 0.4rem; }
code { font-size: 0.9em; }
time { white-space: nowrap; }
`;
