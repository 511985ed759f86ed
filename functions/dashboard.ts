// GET /api/dashboard — the analytics dashboard: one HTML page that charts GET /api/analytics.
import type { HttpFunctionOptions, HttpRequest, InvocationContext } from '@azure/functions';
import { handleHttp } from '../shared/adapters/functions/http.js';
import { dashboardScript } from '../shared/adapters/functions/dashboardBundle.js';
import { dashboardPage } from '../shared/dashboard/page.js';

let page: { html: string; contentSecurityPolicy: string } | undefined;

export const dashboard: HttpFunctionOptions = {
  methods: ['GET'],
  route: 'dashboard',
  authLevel: 'function',
  handler: (request: HttpRequest, context: InvocationContext) =>
    handleHttp(request, context, async () => {
      page ??= dashboardPage(await dashboardScript());
      return {
        status: 200,
        headers: {
          'content-type': 'text/html; charset=utf-8',
          'content-security-policy': page.contentSecurityPolicy,
          // The URL carries the function key (?code=): never pass it on, never cache the page.
          'referrer-policy': 'no-referrer',
          'cache-control': 'no-store',
          'x-content-type-options': 'nosniff',
        },
        body: page.html,
      };
    }),
};
