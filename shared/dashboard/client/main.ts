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
} from 'chart.js';
import type { AnalyticsResponse } from '../../http/analytics.js';
import type { SendingResponse } from '../../http/sending.js';
import { charts, num, pct, ms, money, renderCharts, renderKpis, renderSending, renderTable } from './render.js';

Chart.register(BarController, BarElement, CategoryScale, LinearScale, LineController, LineElement, PointElement, Legend, Tooltip);
Chart.defaults.animation = false;
Chart.defaults.maintainAspectRatio = false;
Chart.defaults.font.family = 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif';

type GroupBy = 'day' | 'hour';

interface Filters {
  from: string;
  to: string;
  tag: string;
  sender: string;
  /** A template name ("" for all); the templates table then shows its versions. */
  template: string;
  /** An app (SMS_APPS / the caller's; "" for all). */
  app: string;
  groupBy: GroupBy;
}

/** What the page shows, kept for tests and for the curious (window.smsDashboard in the console). */
interface DashboardState {
  filters: Filters;
  series?: AnalyticsResponse;
  byTag?: AnalyticsResponse;
  bySender?: AnalyticsResponse;
  byTemplate?: AnalyticsResponse;
  byApp?: AnalyticsResponse;
  sending?: SendingResponse;
  charts: Record<string, Chart>;
  loads: number;
}

const params = new URLSearchParams(location.search);
const functionKey = params.get('code');
const $ = <T extends HTMLElement>(selector: string) => document.querySelector<T>(selector)!;

const state: DashboardState = { filters: initialFilters(), charts, loads: 0 };
(window as unknown as { smsDashboard: DashboardState }).smsDashboard = state;

function isoDay(t: number): string {
  return new Date(t).toISOString().slice(0, 10);
}

function initialFilters(): Filters {
  const today = isoDay(Date.now());
  const day = /^\d{4}-\d{2}-\d{2}$/;
  const to = day.test(params.get('to') ?? '') ? params.get('to')! : today;
  const from = day.test(params.get('from') ?? '') ? params.get('from')! : isoDay(Date.parse(`${to}T00:00:00Z`) - 6 * 86_400_000);
  return {
    from,
    to,
    tag: params.get('tag') ?? '',
    sender: params.get('sender') ?? '',
    template: params.get('template') ?? '',
    app: params.get('app') ?? '',
    groupBy: params.get('groupBy') === 'hour' ? 'hour' : 'day',
  };
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
  const response = await fetch(analyticsUrl(query), {
    headers: { accept, ...(functionKey ? { 'x-functions-key': functionKey } : {}) },
  });
  if (response.status === 401 || response.status === 403) {
    throw new Error('The function key is missing or not valid: open this page as …/api/dashboard?code=<function key>.');
  }
  if (!response.ok) {
    const problem = (await response.json().catch(() => ({}))) as { detail?: string };
    throw new Error(problem.detail ?? `GET /api/analytics answered ${response.status}`);
  }
  return response;
}

/** Sending now: its own request, so a key that may read analytics but not GET /api/sending still gets the charts. */
async function loadSending() {
  try {
    const response = await fetch(new URL('sending', location.href), {
      headers: { accept: 'application/json', ...(functionKey ? { 'x-functions-key': functionKey } : {}) },
    });
    if (!response.ok) {
      renderSending(
        response.status === 401 || response.status === 403
          ? 'Sending state: this key may not read GET /api/sending.'
          : `Sending state: GET /api/sending answered ${response.status}.`,
      );
      return;
    }
    state.sending = (await response.json()) as SendingResponse;
    renderSending(state.sending);
  } catch (error) {
    renderSending(`Sending state unavailable: ${(error as Error).message}`);
  }
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
    const [series, byTag, bySender, byTemplate, byApp] = (await Promise.all(
      [
        { ...common, tag: f.tag, sender: f.sender, template: f.template, app: f.app, groupBy: f.groupBy },
        // The choices of each filter are not narrowed by that filter itself.
        { ...common, sender: f.sender, template: f.template, app: f.app, groupBy: 'tag' },
        { ...common, tag: f.tag, template: f.template, app: f.app, groupBy: 'sender' },
        { ...common, tag: f.tag, sender: f.sender, app: f.app, groupBy: 'templateVersion' },
        { ...common, tag: f.tag, sender: f.sender, template: f.template, groupBy: 'app' },
      ].map(async (q) => (await (await fetchAnalytics(q)).json()) as AnalyticsResponse),
    )) as [AnalyticsResponse, AnalyticsResponse, AnalyticsResponse, AnalyticsResponse, AnalyticsResponse];
    Object.assign(state, { series, byTag, bySender, byTemplate, byApp });
    const templateNames = [...new Set(byTemplate.groups.map((g) => (g.key === null ? null : g.key.replace(/@\d+$/, ''))))];
    renderKpis(series.totals, series.currency);
    renderCharts(series, bySender);
    renderTable('#campaigns', f.tag ? { ...byTag, groups: byTag.groups.filter((g) => g.key === f.tag) } : byTag, [
      ['submitted', (g) => num(g.submitted)],
      ['delivered', (g) => num(g.delivered)],
      ['deliveryRate', (g) => pct(g.deliveryRate)],
      ['responseRate', (g) => pct(g.responseRate)],
      ['optOutRate', (g) => pct(g.optOutRate)],
      ['clickThroughRate', (g) => pct(g.clickThroughRate)],
      ['estimatedCost', (g) => money(g.estimatedCost, series.currency)],
    ]);
    renderTable('#senders', f.sender ? { ...bySender, groups: bySender.groups.filter((g) => g.key === f.sender) } : bySender, [
      ['sent', (g) => num(g.sent)],
      ['delivered', (g) => num(g.delivered)],
      ['deliveryRate', (g) => pct(g.deliveryRate)],
      ['latencyP50Ms', (g) => ms(g.latencyP50Ms)],
      ['latencyP95Ms', (g) => ms(g.latencyP95Ms)],
      ['optOuts', (g) => num(g.optOuts)],
      ['clickThroughRate', (g) => pct(g.clickThroughRate)],
    ]);
    renderTable(
      '#templates',
      f.template
        ? { ...byTemplate, groups: byTemplate.groups.filter((g) => g.key !== null && g.key.replace(/@\d+$/, '') === f.template) }
        : byTemplate,
      [
        ['submitted', (g) => num(g.submitted)],
        ['delivered', (g) => num(g.delivered)],
        ['deliveryRate', (g) => pct(g.deliveryRate)],
        ['responseRate', (g) => pct(g.responseRate)],
        ['optOutRate', (g) => pct(g.optOutRate)],
        ['clickThroughRate', (g) => pct(g.clickThroughRate)],
        ['estimatedCost', (g) => money(g.estimatedCost, series.currency)],
      ],
    );
    fillSelect(
      $('#tag'),
      byTag.groups.map((g) => g.key),
      f.tag,
      'All tags',
    );
    renderTable('#apps', f.app ? { ...byApp, groups: byApp.groups.filter((g) => g.key === f.app) } : byApp, [
      ['submitted', (g) => num(g.submitted)],
      ['delivered', (g) => num(g.delivered)],
      ['deliveryRate', (g) => pct(g.deliveryRate)],
      ['responseRate', (g) => pct(g.responseRate)],
      ['optOutRate', (g) => pct(g.optOutRate)],
      ['estimatedCost', (g) => money(g.estimatedCost, series.currency)],
    ]);
    fillSelect($('#template'), templateNames, f.template, 'All templates');
    fillSelect(
      $('#app'),
      byApp.groups.map((g) => g.key),
      f.app,
      'All apps',
    );
    fillSelect(
      $('#sender'),
      bySender.groups.map((g) => g.key),
      f.sender,
      'All senders',
    );
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
    const response = await fetchAnalytics(
      { from: f.from, to: f.to, tag: f.tag, sender: f.sender, template: f.template, app: f.app, groupBy: f.groupBy },
      'text/csv',
    );
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
  fillSelect($('#template'), [], state.filters.template, 'All templates');
  fillSelect($('#app'), [], state.filters.app, 'All apps');
  const apply = () => {
    state.filters = {
      from: field('from').value || state.filters.from,
      to: field('to').value || state.filters.to,
      tag: field('tag').value,
      sender: field('sender').value,
      template: field('template').value,
      app: field('app').value,
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
void loadSending();
