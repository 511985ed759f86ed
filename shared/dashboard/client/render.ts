// The dashboard's drawing: key figures, charts and tables from GET /api/analytics answers.
// (main.ts reads the filters, fetches the figures and calls these.)
import { Chart, type ChartConfiguration } from 'chart.js';
import type { AnalyticsResponse } from '../../http/analytics.js';
import type { SendingResponse } from '../../http/sending.js';

type Figures = AnalyticsResponse['totals'];

const $ = <T extends HTMLElement>(selector: string) => document.querySelector<T>(selector)!;

/** The charts drawn so far, by name: drawn again in place when the filters change. */
export const charts: Record<string, Chart> = {};

export const COLORS = {
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
export const FAILURE_TEXT: Record<string, string> = {
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

export const pct = (v: number | null) => (v === null ? '–' : `${(v * 100).toFixed(1)} %`);
export const num = (v: number) => v.toLocaleString('en-US');
export const money = (v: number, currency: string) =>
  `${v.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 4 })} ${currency}`;
export const ms = (v: number | null) =>
  v === null ? '–' : v < 1000 ? `${v} ms` : v < 120_000 ? `${(v / 1000).toFixed(1)} s` : `${(v / 60_000).toFixed(1)} min`;

const duration = (s: number | null) => (s === null || s < 7200 ? ms(s === null ? null : s * 1000) : `${(s / 3600).toFixed(1)} h`);

export function label(key: string | null, groupBy: string): string {
  if (key === null) return groupBy === 'template' || groupBy === 'templateVersion' ? '(no template)' : '(no tag)';
  if (groupBy === 'day') return key.slice(5);
  if (groupBy === 'hour') return `${key.slice(5, 10)} ${key.slice(11, 13)}h`;
  return key;
}

export function bucketLabel(bounds: number[], i: number): string {
  return i < bounds.length ? `≤ ${ms(bounds[i]!)}` : `> ${ms(bounds.at(-1)!)}`;
}

export function draw(name: string, config: ChartConfiguration) {
  const existing = charts[name];
  if (existing) {
    existing.data = config.data;
    existing.options = config.options ?? {};
    existing.update();
    return;
  }
  const canvas = $<HTMLCanvasElement>(`canvas[data-chart="${name}"]`);
  charts[name] = new Chart(canvas, config);
}

export function renderKpis(t: Figures, currency: string) {
  const values: Record<string, string> = {
    submitted: num(t.submitted),
    sent: num(t.sent),
    delivered: num(t.delivered),
    deliveryRate: pct(t.deliveryRate),
    failed: num(t.failed),
    responseRate: pct(t.responseRate),
    optOutRate: pct(t.optOutRate),
    clickThroughRate: pct(t.clickThroughRate),
    clicks: `${num(t.clicks)} (${num(t.uniqueClicks)})`,
    timeToFirstClick: duration(t.timeToFirstClickSeconds),
    optOuts: num(t.optOuts),
    uncertain: num(t.uncertain),
    held: num(t.held),
    geoRefused: num(t.geoRefused),
    quietHours: num(t.quietHours),
    frequencyCapped: num(t.frequencyCapped),
    inbound: num(t.inbound),
    segmentsSent: num(t.segmentsSent),
    estimatedCost: money(t.estimatedCost, currency),
    latency: `${ms(t.latencyP50Ms)} / ${ms(t.latencyP95Ms)}`,
  };
  for (const [kpi, text] of Object.entries(values)) $(`[data-kpi="${kpi}"] .value`).textContent = text;
}

export function renderCharts(series: AnalyticsResponse, bySender: AnalyticsResponse) {
  const labels = series.groups.map((g) => label(g.key, series.groupBy));
  const statuses = ['delivered', 'failed', 'unknown', 'expired', 'canceled', 'suppressed'] as const;
  draw('status', {
    type: 'bar',
    data: {
      labels,
      datasets: statuses.map((s) => ({
        label: s,
        data: series.groups.map((g) => g[s]),
        backgroundColor: COLORS[s],
        stack: 'status',
      })),
    },
    options: {
      scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } } },
      plugins: { legend: { position: 'bottom' } },
    },
  });
  const percent = { beginAtZero: true, max: 100, ticks: { callback: (v: string | number) => `${v} %` } };
  const asPercent = (v: number | null) => (v === null ? null : Math.round(v * 1000) / 10);
  draw('deliveryRate', {
    type: 'line',
    data: {
      labels,
      datasets: [
        {
          label: 'delivery rate',
          data: series.groups.map((g) => asPercent(g.deliveryRate)),
          borderColor: COLORS.delivered,
          backgroundColor: COLORS.delivered,
          spanGaps: true,
        },
      ],
    },
    options: { scales: { y: percent }, plugins: { legend: { display: false } } },
  });
  const codes = Object.entries(series.totals.failedByCode).sort(([, a], [, b]) => b - a);
  draw('failures', {
    type: 'bar',
    data: {
      labels: codes.map(
        ([code]) =>
          `${code} · ${FAILURE_TEXT[code] ?? (code.startsWith('acs-') ? `ACS request refused (${code.slice(4)})` : 'other')}`,
      ),
      datasets: [{ label: 'failed messages', data: codes.map(([, n]) => n), backgroundColor: COLORS.failed }],
    },
    options: {
      indexAxis: 'y',
      scales: { x: { beginAtZero: true, ticks: { precision: 0 } } },
      plugins: { legend: { display: false } },
    },
  });
  draw('engagement', {
    type: 'line',
    data: {
      labels,
      datasets: [
        {
          label: 'response rate',
          data: series.groups.map((g) => asPercent(g.responseRate)),
          borderColor: COLORS.answered,
          backgroundColor: COLORS.answered,
          spanGaps: true,
        },
        {
          label: 'opt-out rate',
          data: series.groups.map((g) => asPercent(g.optOutRate)),
          borderColor: COLORS.optOuts,
          backgroundColor: COLORS.optOuts,
          spanGaps: true,
        },
        { label: 'click-through rate', data: series.groups.map((g) => asPercent(g.clickThroughRate)), spanGaps: true },
      ],
    },
    options: { scales: { y: percent }, plugins: { legend: { position: 'bottom' } } },
  });
  draw('cost', {
    type: 'bar',
    data: {
      labels,
      datasets: [
        {
          type: 'bar',
          label: 'segments sent',
          data: series.groups.map((g) => g.segmentsSent),
          backgroundColor: COLORS.segments,
          yAxisID: 'y',
        },
        {
          type: 'line',
          label: `estimated cost (${series.currency})`,
          data: series.groups.map((g) => g.estimatedCost),
          borderColor: COLORS.cost,
          backgroundColor: COLORS.cost,
          yAxisID: 'cost',
        },
      ],
    },
    options: {
      scales: {
        y: { beginAtZero: true, ticks: { precision: 0 } },
        cost: { position: 'right', beginAtZero: true, grid: { drawOnChartArea: false } },
      },
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
      datasets: [
        {
          label: 'delivery rate',
          data: bySender.groups.map((g) => asPercent(g.deliveryRate)),
          backgroundColor: COLORS.delivered,
        },
      ],
    },
    options: { indexAxis: 'y', scales: { x: percent }, plugins: { legend: { display: false } } },
  });
}

/** Sending now (GET /api/sending): paused or not, each budget spent against its limit, fraud holds. */
export function renderSending(state: SendingResponse | string) {
  const section = $('#sending');
  const rows = $<HTMLTableSectionElement>('#sending tbody');
  if (typeof state === 'string') {
    section.dataset.state = 'unknown';
    $('#sending-state').textContent = state;
    rows.replaceChildren();
    $('#sending-holds').textContent = '';
    return;
  }
  section.dataset.state = state.state;
  const pauses = state.pauses.map((p) =>
    p.scope === 'pool' ? 'the whole pool' : p.scope === 'sender' ? `sender ${p.sender}` : `tag ${p.tag}`,
  );
  $('#sending-state').textContent =
    state.state === 'active'
      ? 'Sending: active'
      : `Sending paused: ${pauses.join(', ')} (since ${state.pauses[0]?.since.slice(0, 16).replace('T', ' ')} UTC)`;
  rows.replaceChildren(
    ...state.budgets.flatMap((b) =>
      [
        b.messages
          ? {
              what: 'messages',
              spent: num(b.messages.spent),
              limit: num(b.messages.limit),
              share: b.messages.spent / b.messages.limit,
            }
          : undefined,
        b.cost
          ? {
              what: 'cost',
              spent: money(b.cost.spent, b.cost.currency),
              limit: money(b.cost.limit, b.cost.currency),
              share: b.cost.spent / b.cost.limit,
            }
          : undefined,
      ]
        .filter((x) => x !== undefined)
        .map((x) => {
          const tr = document.createElement('tr');
          const meter = document.createElement('meter');
          Object.assign(meter, { min: 0, max: 1, low: 0.8, high: 0.99, optimum: 0, value: Math.min(1, x.share) });
          const use = cell(pct(x.share), false);
          use.prepend(meter, ' ');
          tr.append(
            cell(`${b.scope === 'pool' ? 'pool' : b.scope === 'app' ? `app ${b.app}` : `tag ${b.tag}`} · ${x.what}`, false),
            cell(b.period === 'day' ? b.periodStart.slice(0, 10) : b.periodStart.slice(0, 7), false),
            cell(x.spent),
            cell(x.limit),
            use,
          );
          return tr;
        }),
    ),
  );
  $('#sending-holds').textContent =
    `${state.activeHolds === 0 ? 'No fraud holds' : `${state.activeHolds} fraud hold${state.activeHolds === 1 ? '' : 's'} in force (GET /api/holds)`}` +
    `${state.budgets.length === 0 ? ' · no budgets set (SMS_BUDGETS)' : ''}`;
}

export function cell(text: string, numeric = true): HTMLTableCellElement {
  const td = document.createElement('td');
  td.textContent = text;
  if (numeric) td.className = 'n';
  return td;
}

export function renderTable(
  selector: string,
  response: AnalyticsResponse,
  columns: Array<[string, (g: AnalyticsResponse['groups'][number]) => string]>,
) {
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
