// The dashboard's HTML: one self-contained page, the bundled script and the styles inline. The
// Content-Security-Policy allows exactly those (by hash) and requests to this origin, nothing else.
import { createHash } from 'node:crypto';

const STYLE = `
:root { color-scheme: light; --ink: #1d2430; --muted: #5f6b7a; --line: #dde3ea; --card: #fff; --bg: #f4f6f9; --accent: #1565c0; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); background: var(--bg); }
header { display: flex; flex-wrap: wrap; align-items: center; gap: 12px 24px; padding: 14px 24px; background: var(--card); border-bottom: 1px solid var(--line); }
h1 { font-size: 18px; margin: 0; font-weight: 600; }
form { display: flex; flex-wrap: wrap; gap: 10px; align-items: end; margin: 0; }
label { display: flex; flex-direction: column; font-size: 12px; color: var(--muted); gap: 2px; }
input, select, button { font: inherit; padding: 4px 8px; border: 1px solid var(--line); border-radius: 6px; background: #fff; color: var(--ink); }
button { cursor: pointer; background: var(--accent); color: #fff; border-color: var(--accent); }
#status { margin: 0; padding: 8px 24px; color: var(--muted); font-size: 12px; }
body[data-state="error"] #status { color: #c62828; font-weight: 600; }
main { padding: 0 24px 24px; }
.kpis { display: grid; grid-template-columns: repeat(auto-fill, minmax(140px, 1fr)); gap: 10px; margin-bottom: 14px; }
.kpi { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 10px 12px; }
.kpi .label { display: block; font-size: 12px; color: var(--muted); }
.kpi .value { display: block; font-size: 20px; font-weight: 600; font-variant-numeric: tabular-nums; }
.grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(440px, 1fr)); gap: 14px; }
figure, section { margin: 0; background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 12px 14px; }
figcaption, h2 { font-size: 14px; font-weight: 600; margin: 0 0 8px; }
.chart { position: relative; height: 240px; }
table { width: 100%; border-collapse: collapse; font-variant-numeric: tabular-nums; }
th, td { text-align: left; padding: 4px 6px; border-bottom: 1px solid var(--line); }
th.n, td.n { text-align: right; }
#empty { background: #fff8e1; border: 1px solid #ffe082; border-radius: 8px; padding: 10px 14px; margin-bottom: 14px; }
footer { padding: 0 24px 24px; color: var(--muted); font-size: 12px; }
#sending { margin-bottom: 14px; }
#sending-state { font-weight: 600; margin: 0 0 6px; }
#sending[data-state="paused"] #sending-state, #sending[data-state="partlyPaused"] #sending-state { color: #c62828; }
meter { width: 120px; vertical-align: middle; }
`;

const KPIS: Array<[string, string]> = [
  ['submitted', 'Submitted'],
  ['sent', 'Sent'],
  ['delivered', 'Delivered'],
  ['deliveryRate', 'Delivery rate'],
  ['failed', 'Failed'],
  ['uncertain', 'Uncertain hand-overs'],
  ['held', 'Held (fraud suspected)'],
  ['geoRefused', 'Refused (geo permissions)'],
  ['quietHours', 'Deferred (quiet hours)'],
  ['frequencyCapped', 'Capped (frequency)'],
  ['responseRate', 'Response rate'],
  ['optOutRate', 'Opt-out rate'],
  ['clickThroughRate', 'Click-through rate'],
  ['clicks', 'Link clicks (unique)'],
  ['timeToFirstClick', 'Time to first click'],
  ['optOuts', 'Opt-outs'],
  ['inbound', 'Inbound'],
  ['segmentsSent', 'Segments sent'],
  ['estimatedCost', 'Estimated cost'],
  ['latency', 'Latency p50 / p95'],
];

const CHARTS: Array<[string, string]> = [
  ['status', 'Messages by final status'],
  ['deliveryRate', 'Delivery rate'],
  ['failures', 'Failures by reason'],
  ['engagement', 'Response, opt-out and click-through rates'],
  ['cost', 'Segments and estimated cost'],
  ['latency', 'Delivery latency (hand-over → delivered)'],
  ['senders', 'Delivery rate by sender'],
];

function table(id: string, title: string, first: string, columns: string[]): string {
  return `<section id="${id}"><h2>${title}</h2><table><thead><tr><th>${first}</th>${columns.map((c) => `<th class="n">${c}</th>`).join('')}</tr></thead><tbody></tbody></table></section>`;
}

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('base64');

/** The page and the CSP that goes with it. `script` is the bundle (dist/dashboard/dashboard.js). */
export function dashboardPage(script: string): { html: string; contentSecurityPolicy: string } {
  // "</script" inside the bundle would end the element early.
  const safeScript = script.replace(/<\/script/gi, '<\\/script');
  const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<link rel="icon" href="data:,">
<title>SMS analytics</title>
<style>${STYLE}</style>
</head>
<body data-state="loading">
<header>
<h1>SMS analytics</h1>
<form id="filters">
<label>From <input id="from" name="from" type="date" required></label>
<label>To <input id="to" name="to" type="date" required></label>
<label>Tag <select id="tag" name="tag"></select></label>
<label>Sender <select id="sender" name="sender"></select></label>
<label>Template <select id="template" name="template"></select></label>
<label>App <select id="app" name="app"></select></label>
<label>By <select id="groupBy" name="groupBy"><option value="day">day</option><option value="hour">hour</option></select></label>
<button id="csv" type="button">Download CSV</button>
</form>
</header>
<p id="status" role="status">Loading…</p>
<main>
<section id="sending" data-state="unknown"><h2>Sending now</h2><p id="sending-state">–</p>
<table><thead><tr><th>Budget</th><th>Period</th><th class="n">Spent</th><th class="n">Limit</th><th>Use</th></tr></thead><tbody></tbody></table>
<p id="sending-holds"></p></section>
<div id="empty" hidden>Nothing was sent or received in this period with these filters.</div>
<div class="kpis">
${KPIS.map(([key, text]) => `<div class="kpi" data-kpi="${key}"><span class="label">${text}</span><span class="value">–</span></div>`).join('\n')}
</div>
<div class="grid">
${CHARTS.map(([key, text]) => `<figure><figcaption>${text}</figcaption><div class="chart"><canvas data-chart="${key}" role="img" aria-label="${text}"></canvas></div></figure>`).join('\n')}
${table('campaigns', 'Campaigns (tags)', 'Tag', ['Submitted', 'Delivered', 'Delivery rate', 'Response rate', 'Opt-out rate', 'Click-through rate', 'Est. cost'])}
${table('senders', 'Senders', 'Sender', ['Sent', 'Delivered', 'Delivery rate', 'p50', 'p95', 'Opt-outs', 'Click-through rate'])}
${table('templates', 'Templates (by version)', 'Template', ['Submitted', 'Delivered', 'Delivery rate', 'Response rate', 'Opt-out rate', 'Click-through rate', 'Est. cost'])}
${table('apps', 'Apps (callers)', 'App', ['Submitted', 'Delivered', 'Delivery rate', 'Response rate', 'Opt-out rate', 'Est. cost'])}
</div>
</main>
<footer>All times UTC. Rates: delivery = delivered / (delivered + failed + expired + unknown); response = messages answered within the response window / delivered; opt-out = opt-outs / delivered. Cost is an estimate from list prices. See docs/analytics.md.</footer>
<script>${safeScript}</script>
</body>
</html>
`;
  const contentSecurityPolicy = [
    "default-src 'none'",
    `script-src 'sha256-${sha256(safeScript)}'`,
    `style-src 'sha256-${sha256(STYLE)}'`,
    "connect-src 'self'",
    "img-src 'self' data: blob:",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
  return { html, contentSecurityPolicy };
}
