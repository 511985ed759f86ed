// GET /api/analytics — counts, rates, latency and cost per day, hour, tag or sender, as JSON or CSV.
import type { HttpFunctionOptions, HttpRequest, InvocationContext } from '@azure/functions';
import { services } from '../shared/composition.js';
import { handleHttp } from '../shared/adapters/functions/http.js';
import { analyticsBody, analyticsCsv, resolveAnalyticsQuery } from '../shared/http/analytics.js';
import { json, validationProblem } from '../shared/http/problem.js';
import { visibleApp } from '../shared/domain/apps.js';
import { PRICE_CURRENCY } from '../shared/domain/pricing.js';
import { readAnalytics } from '../shared/pipeline/analytics.js';

export const getAnalytics: HttpFunctionOptions = {
  methods: ['GET'],
  route: 'analytics',
  authLevel: 'function',
  handler: (request: HttpRequest, context: InvocationContext) =>
    handleHttp(request, context, async (_log, caller) => {
      const s = services();
      const resolved = resolveAnalyticsQuery(Object.fromEntries(request.query.entries()), s.clock.now());
      if (!resolved.ok) return validationProblem(resolved.errors);
      const { format, ...asked } = resolved.query;
      // A caller confined to its app (domain/apps.ts) gets its own figures; asking for another app's gets none.
      const confined = visibleApp(caller.app);
      const query = confined === undefined ? asked : { ...asked, app: confined };
      if (confined !== undefined && asked.app !== undefined && asked.app !== confined)
        return validationProblem([{ field: 'app', message: `is not your app ("${confined}"): you see only its figures` }]);
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
