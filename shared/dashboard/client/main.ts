// The dashboard page's script (runs in the browser; bundled with Chart.js by esbuild at build time).
// It reads the filters from the page's URL, calls GET /api/analytics with the same function key the
// page was opened with (?code=, sent on as the x-functions-key header), and draws the figures.
import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Tooltip,
  type ChartConfiguration,
} from 'chart.js';
import type { AnalyticsResponse } from '../../http/analyticsSchemas.js';

Chart.register(BarController, BarElement, CategoryScale, LinearScale, LineController, LineElement, PointElement, Legend, Tooltip);
Chart.defaults.animation = false;
Chart.defaults.maintainAspectRatio = false;
Chart.defaults.font.family = 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif';

type Figures = AnalyticsResponse['totals'];
type GroupBy = 'day' | 'hour';

interface Filters {
  from: string;
  to: string;
  tag: string;
  sender: string;
  groupBy: GroupBy;
}

/** What the page shows, kept for tests and for the curious (window.smsDashboard in the console). */
interface DashboardState {
  filters: Filters;
  series?: AnalyticsResponse;
  byTag?: AnalyticsResponse;
  bySender?: AnalyticsResponse;
  charts: Record<string, Chart>;
  loads: number;
}

const COLORS = {
  delivered: '#2e7d32',
  sent: '#1565c0',
  failed: '#c62828',
  unknown: '#757575',
  expired: '#ef6c00',
  canceled: '#6a1b9a',
  suppressed: '#a1887f',
  optOuts: '#d81b60',
  answered: '#00838f',
  cost: '#f9a825',
  segments: '#5c6bc0',
  latency: '#26a69a',
};

/** What the codes in failedByCode mean (ACS delivery report codes, and the pipeline's own). */
const FAILURE_TEXT: Record<string, string> = {
  '4000': 'Rejected: fraud detection',
  '4001': 'Rejected: invalid sender number',
  '4002': 'Rejected: invalid recipient number',
  '4003': 'Unsupported destination',
  '4004': 'Recipient number does not exist',
  '4005': 'Blocked by the destination carrier',
  '4006': 'Recipient not reachable',
  '4007': 'Recipient opted out (blocked)',
  '4008': 'Profile message limit exceeded',
  '4009': 'Rejected by the entitlement system',
  '4010': 'Toll-free number not verified',
  '5000': 'Failed (contact Microsoft support)',
  '5001': 'Temporarily unavailable',
  '5002': 'Carrier gives no delivery report',
  '9999': 'Unknown error',
  '400': 'Refused by ACS (bad request)',
  'max-attempts': 'Gave up after the last attempt',
  none: 'No code',
};

const params = new URLSearchParams(location.search);
const functionKey = params.get('code');
const $ = <T extends HTMLElement>(selector: string) => document.querySelector<T>(selector)!;

const state: DashboardState = { filters: initialFilters(), charts: {}, loads: 0 };
(window as unknown as { smsDashboard: DashboardState }).smsDashboard = state;

function isoDay(t: number): string {
  return new Date(t).toISOString().slice(0, 10);
}

function initialFilters(): Filters {
  const today = isoDay(Date.now());
  const day = /^\d{4}-\d{2}-\d{2}$/;
  const to = day.test(params.get('to') ?? '') ? params.get('to')! : today;
  const from = day.test(params.get('from') ?? '') ? params.get('from')! : isoDay(Date.parse(`${to}T00:00:00Z`) - 6 * 86_400_000);
  return { from, to, tag: params.get('tag') ?? '', sender: params.get('sender') ?? '', groupBy: params.get('groupBy') === 'hour' ? 'hour' : 'day' };
}

/** The page's own URL for the filters (the function key stays), so a view can be bookmarked or shared. */
function syncUrl(f: Filters) {
  const url = new URL(location.href);
  for (const [k, v] of Object.entries(f)) {
    if (v) url.searchParams.set(k, v);
    else url.searchParams.delete(k);
  }
  history.replaceState(null, '', url);
}

function analyticsUrl(query: Record<string, string>): URL {
  // The page is served at <prefix>/dashboard; the API is its sibling <prefix>/analytics.
  const url = new URL('analytics', location.href);
  for (const [k, v] of Object.entries(query)) if (v) url.searchParams.set(k, v);
  return url;
}

async function fetchAnalytics(query: Record<string, string>, accept = 'application/json'): Promise<Response> {
  const response = await fetch(analyticsUrl(query), { headers: { accept, ...(functionKey ? { 'x-functions-key': functionKey } : {}) } });
  if (response.status === 401 || response.status === 403) {
    throw new Error('The function key is missing or not valid: open this page as …/api/dashboard?code=<function key>.');
  }
  if (!response.ok) {
    const problem = (await response.json().catch(() => ({}))) as { detail?: string };
    throw new Error(problem.detail ?? `GET /api/analytics answered ${response.status}`);
  }
  return response;
}

const pct = (v: number | null) => (v === null ? '–' : `${(v * 100).toFixed(1)} %`);
const num = (v: number) => v.toLocaleString('en-US');
const money = (v: number, currency: string) => `${v.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 4 })} ${currency}`;
const ms = (v: number | null) => (v === null ? '–' : v < 1000 ? `${v} ms` : v < 120_000 ? `${(v / 1000).toFixed(1)} s` : `${(v / 60_000).toFixed(1)} min`);

function label(key: string | null, groupBy: string): string {
  if (key === null) return '(no tag)';
  if (groupBy === 'day') return key.slice(5);
  if (groupBy === 'hour') return `${key.slice(5, 10)} ${key.slice(11, 13)}h`;
  return key;
}

function bucketLabel(bounds: number[], i: number): string {
  return i < bounds.length ? `≤ ${ms(bounds[i]!)}` : `> ${ms(bounds.at(-1)!)}`;
}

function draw(name: string, config: ChartConfiguration) {
  const existing = state.charts[name];
  if (existing) {
    existing.data = config.data;
    existing.options = config.options ?? {};
    existing.update();
    return;
  }
  const canvas = $<HTMLCanvasElement>(`canvas[data-chart="${name}"]`);
  state.charts[name] = new Chart(canvas, config);
}

function renderKpis(t: Figures, currency: string) {
  const values: Record<string, string> = {
    submitted: num(t.submitted),
    sent: num(t.sent),
    delivered: num(t.delivered),
    deliveryRate: pct(t.deliveryRate),
    failed: num(t.failed),
    responseRate: pct(t.responseRate),
    optOutRate: pct(t.optOutRate),
    optOuts: num(t.optOuts),
    inbound: num(t.inbound),
    segmentsSent: num(t.segmentsSent),
    estimatedCost: money(t.estimatedCost, currency),
    latency: `${ms(t.latencyP50Ms)} / ${ms(t.latencyP95Ms)}`,
  };
  for (const [kpi, text] of Object.entries(values)) $(`[data-kpi="${kpi}"] .value`).textContent = text;
}

function renderCharts(series: AnalyticsResponse, bySender: AnalyticsResponse) {
  const labels = series.groups.map((g) => label(g.key, series.groupBy));
  const statuses = ['delivered', 'failed', 'unknown', 'expired', 'canceled', 'suppressed'] as const;
  draw('status', {
    type: 'bar',
    data: {
      labels,
      datasets: statuses.map((s) => ({ label: s, data: series.groups.map((g) => g[s]), backgroundColor: COLORS[s], stack: 'status' })),
    },
    options: { scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } } }, plugins: { legend: { position: 'bottom' } } },
  });
  const percent = { beginAtZero: true, max: 100, ticks: { callback: (v: string | number) => `${v} %` } };
  const asPercent = (v: number | null) => (v === null ? null : Math.round(v * 1000) / 10);
  draw('deliveryRate', {
    type: 'line',
    data: {
      labels,
      datasets: [
        { label: 'delivery rate', data: series.groups.map((g) => asPercent(g.deliveryRate)), borderColor: COLORS.delivered, backgroundColor: COLORS.delivered, spanGaps: true },
      ],
    },
    options: { scales: { y: percent }, plugins: { legend: { display: false } } },
  });
  const codes = Object.entries(series.totals.failedByCode).sort(([, a], [, b]) => b - a);
  draw('failures', {
    type: 'bar',
    data: {
      labels: codes.map(([code]) => `${code} · ${FAILURE_TEXT[code] ?? (code.startsWith('acs-') ? `ACS request refused (${code.slice(4)})` : 'other')}`),
      datasets: [{ label: 'failed messages', data: codes.map(([, n]) => n), backgroundColor: COLORS.failed }],
    },
    options: { indexAxis: 'y', scales: { x: { beginAtZero: true, ticks: { precision: 0 } } }, plugins: { legend: { display: false } } },
  });
  draw('engagement', {
    type: 'line',
    data: {
      labels,
      datasets: [
        { label: 'response rate', data: series.groups.map((g) => asPercent(g.responseRate)), borderColor: COLORS.answered, backgroundColor: COLORS.answered, spanGaps: true },
        { label: 'opt-out rate', data: series.groups.map((g) => asPercent(g.optOutRate)), borderColor: COLORS.optOuts, backgroundColor: COLORS.optOuts, spanGaps: true },
      ],
    },
    options: { scales: { y: percent }, plugins: { legend: { position: 'bottom' } } },
  });
  draw('cost', {
    type: 'bar',
    data: {
      labels,
      datasets: [
        { type: 'bar', label: 'segments sent', data: series.groups.map((g) => g.segmentsSent), backgroundColor: COLORS.segments, yAxisID: 'y' },
        { type: 'line', label: `estimated cost (${series.currency})`, data: series.groups.map((g) => g.estimatedCost), borderColor: COLORS.cost, backgroundColor: COLORS.cost, yAxisID: 'cost' },
      ],
    },
    options: {
      scales: { y: { beginAtZero: true, ticks: { precision: 0 } }, cost: { position: 'right', beginAtZero: true, grid: { drawOnChartArea: false } } },
      plugins: { legend: { position: 'bottom' } },
    },
  });
  draw('latency', {
    type: 'bar',
    data: {
      labels: series.totals.latencyHistogram.map((_, i) => bucketLabel(series.latencyBoundsMs, i)),
      datasets: [{ label: 'delivered messages', data: series.totals.latencyHistogram, backgroundColor: COLORS.latency }],
    },
    options: { scales: { y: { beginAtZero: true, ticks: { precision: 0 } } }, plugins: { legend: { display: false } } },
  });
  draw('senders', {
    type: 'bar',
    data: {
      labels: bySender.groups.map((g) => g.key ?? ''),
      datasets: [{ label: 'delivery rate', data: bySender.groups.map((g) => asPercent(g.deliveryRate)), backgroundColor: COLORS.delivered }],
    },
    options: { indexAxis: 'y', scales: { x: percent }, plugins: { legend: { display: false } } },
  });
}

function cell(text: string, numeric = true): HTMLTableCellElement {
  const td = document.createElement('td');
  td.textContent = text;
  if (numeric) td.className = 'n';
  return td;
}

function renderTable(selector: string, response: AnalyticsResponse, columns: Array<[string, (g: AnalyticsResponse['groups'][number]) => string]>) {
  const body = $<HTMLTableSectionElement>(`${selector} tbody`);
  body.replaceChildren(
    ...response.groups.map((g) => {
      const tr = document.createElement('tr');
      tr.append(cell(label(g.key, response.groupBy), false), ...columns.map(([, value]) => cell(value(g))));
      return tr;
    }),
  );
  $(`${selector}`).hidden = response.groups.length === 0;
}

function fillSelect(select: HTMLSelectElement, values: Array<string | null>, chosen: string, none: string) {
  const options = [new Option(none, '')];
  for (const v of values) if (v) options.push(new Option(v, v));
  if (chosen && !values.includes(chosen)) options.push(new Option(chosen, chosen));
  select.replaceChildren(...options);
  select.value = chosen;
}

async function load() {
  const f = state.filters;
  syncUrl(f);
  const status = $('#status');
  status.textContent = 'Loading…';
  document.body.dataset.state = 'loading';
  try {
    const common = { from: f.from, to: f.to };
    const [series, byTag, bySender] = (await Promise.all(
      [
        { ...common, tag: f.tag, sender: f.sender, groupBy: f.groupBy },
        // The choices of each filter are not narrowed by that filter itself.
        { ...common, sender: f.sender, groupBy: 'tag' },
        { ...common, tag: f.tag, groupBy: 'sender' },
      ].map(async (q) => (await (await fetchAnalytics(q)).json()) as AnalyticsResponse),
    )) as [AnalyticsResponse, AnalyticsResponse, AnalyticsResponse];
    Object.assign(state, { series, byTag, bySender });
    renderKpis(series.totals, series.currency);
    renderCharts(series, bySender);
    renderTable('#campaigns', f.tag ? { ...byTag, groups: byTag.groups.filter((g) => g.key === f.tag) } : byTag, [
      ['submitted', (g) => num(g.submitted)],
      ['delivered', (g) => num(g.delivered)],
      ['deliveryRate', (g) => pct(g.deliveryRate)],
      ['responseRate', (g) => pct(g.responseRate)],
      ['optOutRate', (g) => pct(g.optOutRate)],
      ['estimatedCost', (g) => money(g.estimatedCost, series.currency)],
    ]);
    renderTable('#senders', f.sender ? { ...bySender, groups: bySender.groups.filter((g) => g.key === f.sender) } : bySender, [
      ['sent', (g) => num(g.sent)],
      ['delivered', (g) => num(g.delivered)],
      ['deliveryRate', (g) => pct(g.deliveryRate)],
      ['latencyP50Ms', (g) => ms(g.latencyP50Ms)],
      ['latencyP95Ms', (g) => ms(g.latencyP95Ms)],
      ['optOuts', (g) => num(g.optOuts)],
    ]);
    fillSelect($('#tag'), byTag.groups.map((g) => g.key), f.tag, 'All tags');
    fillSelect($('#sender'), bySender.groups.map((g) => g.key), f.sender, 'All senders');
    $('#empty').hidden = series.totals.submitted + series.totals.inbound + series.totals.optOuts + series.totals.optIns > 0;
    const range = `${series.from.slice(0, 16).replace('T', ' ')} – ${series.to.slice(0, 16).replace('T', ' ')} UTC`;
    status.textContent = `${range} · updated ${new Date().toISOString().slice(11, 19)} UTC`;
    state.loads++;
    document.body.dataset.state = 'ready';
  } catch (error) {
    status.textContent = (error as Error).message;
    document.body.dataset.state = 'error';
  }
}

async function downloadCsv() {
  const f = state.filters;
  try {
    const response = await fetchAnalytics({ from: f.from, to: f.to, tag: f.tag, sender: f.sender, groupBy: f.groupBy }, 'text/csv');
    const name = /filename="([^"]+)"/.exec(response.headers.get('content-disposition') ?? '')?.[1] ?? 'sms-analytics.csv';
    const link = document.createElement('a');
    link.href = URL.createObjectURL(await response.blob());
    link.download = name;
    link.click();
    setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
  } catch (error) {
    $('#status').textContent = (error as Error).message;
  }
}

function bindFilters() {
  const form = $<HTMLFormElement>('#filters');
  const field = (id: string) => $<HTMLInputElement | HTMLSelectElement>(`#${id}`);
  field('from').value = state.filters.from;
  field('to').value = state.filters.to;
  field('groupBy').value = state.filters.groupBy;
  fillSelect($('#tag'), [], state.filters.tag, 'All tags');
  fillSelect($('#sender'), [], state.filters.sender, 'All senders');
  const apply = () => {
    state.filters = {
      from: field('from').value || state.filters.from,
      to: field('to').value || state.filters.to,
      tag: field('tag').value,
      sender: field('sender').value,
      groupBy: field('groupBy').value === 'hour' ? 'hour' : 'day',
    };
    void load();
  };
  form.addEventListener('change', apply);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    apply();
  });
  $('#csv').addEventListener('click', () => void downloadCsv());
}

bindFilters();
void load();
