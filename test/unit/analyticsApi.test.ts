// GET /api/analytics without storage: how the query becomes a range (or a 400 naming the
// parameter), the CSV form, and the OpenAPI description generated from the same schemas.
import { describe, expect, it } from 'vitest';
import { buildReport } from '../../shared/domain/analyticsReport.js';
import { analyticsBody, analyticsCsv, resolveAnalyticsQuery } from '../../shared/http/analytics.js';
import { buildOpenApiDocument } from '../../shared/http/openapi.js';

const now = new Date('2026-11-25T10:20:00Z');
const ok = (raw: Record<string, string>) => {
  const r = resolveAnalyticsQuery(raw, now);
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return { ...r.query, from: r.query.from.toISOString(), to: r.query.to.toISOString() };
};
const fields = (raw: Record<string, string>) => {
  const r = resolveAnalyticsQuery(raw, now);
  return r.ok ? [] : r.errors.map((e) => e.field);
};

describe('the analytics query', () => {
  it('defaults to the last 7 days including today, by day; 24 hours by hour', () => {
    expect(ok({})).toEqual({ from: '2026-11-19T00:00:00.000Z', to: '2026-11-26T00:00:00.000Z', groupBy: 'day' });
    expect(ok({ groupBy: 'hour' })).toMatchObject({ from: '2026-11-24T11:00:00.000Z', to: '2026-11-25T11:00:00.000Z' });
  });

  it('takes dates as whole days (to inclusive) and date-times rounded out to hours (to exclusive)', () => {
    expect(
      ok({
        from: '2026-11-01',
        to: '2026-11-30',
        tag: 'promo',
        sender: '+18005550100',
        groupBy: 'tag',
        code: 'the-function-key',
      }),
    ).toEqual({
      from: '2026-11-01T00:00:00.000Z',
      to: '2026-12-01T00:00:00.000Z',
      groupBy: 'tag',
      tag: 'promo',
      sender: '+18005550100',
    });
    expect(ok({ from: '2026-11-25T08:45:00+01:00', to: '2026-11-25T10:00:00Z' })).toMatchObject({
      from: '2026-11-25T07:00:00.000Z',
      to: '2026-11-25T10:00:00.000Z',
    });
    expect(ok({ to: '2026-11-25T10:00:01Z' }).to).toBe('2026-11-25T11:00:00.000Z');
    expect(ok({ sender: '*', format: 'csv' })).toMatchObject({ sender: '*', format: 'csv' });
    expect(ok({ template: 'appointment-reminder', groupBy: 'templateVersion' })).toMatchObject({
      template: 'appointment-reminder',
      groupBy: 'templateVersion',
    });
    expect(ok({ template: 'appointment-reminder@3', groupBy: 'template' })).toMatchObject({
      template: 'appointment-reminder@3',
      groupBy: 'template',
    });
  });

  it('names the bad parameter', () => {
    expect(fields({ from: 'yesterday' })).toEqual(['from']);
    expect(fields({ to: '2026-13-01' })).toEqual(['to']);
    expect(fields({ groupBy: 'week' })).toEqual(['groupBy']);
    expect(fields({ tag: 'no spaces' })).toEqual(['tag']);
    expect(fields({ sender: '0800' })).toEqual(['sender']);
    expect(fields({ template: 'no spaces' })).toEqual(['template']);
    expect(fields({ template: 'reminder@0' })).toEqual(['template']);
    expect(fields({ template: 'reminder@latest' })).toEqual(['template']);
    expect(fields({ format: 'xml' })).toEqual(['format']);
    expect(fields({ from: '2026-11-20', to: '2026-11-19' })).toEqual(['to']);
    expect(fields({ from: '2027-01-01' })).toEqual(['from']);
    expect(fields({ from: '2025-01-01', to: '2026-11-25' })).toEqual(['from']);
    expect(fields({ from: '2026-10-01', to: '2026-11-25', groupBy: 'hour' })).toEqual(['groupBy']);
  });
});

describe('the CSV form', () => {
  it('has a header row, one row per group, a column per failure code and per latency bucket', () => {
    const query = { from: new Date('2026-11-24T00:00:00Z'), to: new Date('2026-11-26T00:00:00Z'), groupBy: 'day' as const };
    const report = buildReport(
      [
        {
          bucket: '2026-11-24',
          tag: '',
          sender: 'A',
          template: '',
          tally: { submitted: 3, delivered: 2, failed: 1, fc_4005: 1, lat_02: 2 },
        },
        { bucket: '2026-11-25', tag: '', sender: 'A', template: '', tally: { submitted: 1, failed: 1, fc_max_attempts: 1 } },
      ],
      query,
    );
    const csv = analyticsCsv(analyticsBody(query, report, { currency: 'USD', responseWindowMs: 72 * 3600_000 }));
    const [header, first, second, end] = csv.split('\r\n');
    const columns = header!.split(',');
    expect(columns.slice(0, 4)).toEqual(['day', 'submitted', 'suppressed', 'sent']);
    expect(columns).toContain('failed_4005');
    expect(columns).toContain('failed_max-attempts');
    expect(columns.at(-1)).toBe('latency_gt_259200000');
    const row = (line: string) => Object.fromEntries(columns.map((c, i) => [c, line.split(',')[i]]));
    expect(row(first!)).toMatchObject({
      day: '2026-11-24',
      submitted: '3',
      delivered: '2',
      deliveryRate: '0.6667',
      failed_4005: '1',
      'failed_max-attempts': '0',
      latency_le_1000: '2',
      latencyP50Ms: '750',
    });
    expect(row(second!)).toMatchObject({
      day: '2026-11-25',
      submitted: '1',
      deliveryRate: '0',
      latencyP50Ms: '',
      'failed_max-attempts': '1',
    });
    expect(end).toBe('');
  });
});

describe('the OpenAPI description', () => {
  const doc = buildOpenApiDocument() as {
    paths: Record<
      string,
      Record<
        string,
        { parameters: Array<{ name: string; in: string }>; responses: Record<string, { content?: Record<string, unknown> }> }
      >
    >;
  };

  it('documents the query parameters and both media types of GET /api/analytics', () => {
    const op = doc.paths['/api/analytics']!.get!;
    expect(op.parameters.map((p) => `${p.in}:${p.name}`)).toEqual([
      'query:from',
      'query:to',
      'query:tag',
      'query:sender',
      'query:template',
      'query:app',
      'query:groupBy',
      'query:format',
    ]);
    expect(Object.keys(op.responses['200']!.content!)).toEqual(['application/json', 'text/csv']);
    expect(Object.keys(doc.paths['/api/dashboard']!.get!.responses['200']!.content!)).toEqual(['text/html']);
  });
});
