// GET /api/analytics — counts, rates, latency and cost per day, hour, tag or sender, as JSON or CSV.
import type { HttpFunctionOptions, HttpRequest, InvocationContext } from '@azure/functions';
import { services } from '../shared/composition.js';
import { handleHttp } from '../shared/adapters/functions/http.js';
import { analyticsBody, analyticsCsv, resolveAnalyticsQuery } from '../shared/http/analytics.js';
import { json, validationProblem } from '../shared/http/problem.js';
import { PRICE_CURRENCY } from '../shared/domain/pricing.js';
import { readAnalytics } from '../shared/pipeline/analytics.js';

export const getAnalytics: HttpFunctionOptions = {
  methods: ['GET'],
  route: 'analytics',
  authLevel: 'function',
  handler: (request: HttpRequest, context: InvocationContext) =>
    handleHttp(request, context, async () => {
      const s = services();
      const resolved = resolveAnalyticsQuery(Object.fromEntries(request.query.entries()), s.clock.now());
      if (!resolved.ok) return validationProblem(resolved.errors);
      const { format, ...query } = resolved.query;
      const report = await readAnalytics(s.analytics, query);
      const body = analyticsBody(query, report, {
        currency: PRICE_CURRENCY,
        responseWindowMs: s.config.analytics.responseWindowMs,
      });
      const csv = format === 'csv' || (format === undefined && /\btext\/csv\b/i.test(request.headers.get('accept') ?? ''));
      if (!csv) return json(200, body, { 'cache-control': 'no-store' });
      const name = `sms-analytics-${body.from.slice(0, 13)}-${body.to.slice(0, 13)}-by-${body.groupBy}.csv`.replace(/:/g, '');
      return {
        status: 200,
        headers: {
          'content-type': 'text/csv; charset=utf-8; header=present',
          'content-disposition': `attachment; filename="${name}"`,
          'cache-control': 'no-store',
        },
        body: analyticsCsv(body),
      };
    }),
};
