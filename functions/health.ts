// GET /api/health — anonymous: whether the pipeline can work (storage, the outbound queue, ACS),
// as a status only. GET /api/health/details — with a function key: each check, its time, its error.
// The ACS check asks with one of our numbers, so it proves ACS accepts the app's identity for SMS.
import type { HttpFunctionOptions, HttpRequest, InvocationContext } from '@azure/functions';
import { deps } from '../shared/composition.js';
import { handleHttp } from '../shared/adapters/functions/http.js';
import { healthSummary } from '../shared/http/operations.js';
import { json } from '../shared/http/problem.js';

const answer = (status: 'healthy' | 'unhealthy', body: unknown) =>
  json(status === 'healthy' ? 200 : 503, body, {
    'cache-control': 'no-store',
    ...(status === 'healthy' ? {} : { 'retry-after': '10' }),
  });

export const health: HttpFunctionOptions = {
  methods: ['GET'],
  route: 'health',
  authLevel: 'anonymous',
  handler: (request: HttpRequest, context: InvocationContext) =>
    handleHttp(request, context, async () => {
      const report = await deps().health();
      return answer(report.status, healthSummary(report));
    }),
};

export const healthDetails: HttpFunctionOptions = {
  methods: ['GET'],
  route: 'health/details',
  authLevel: 'function',
  handler: (request: HttpRequest, context: InvocationContext) =>
    handleHttp(request, context, async () => {
      const report = await deps().health();
      return answer(report.status, report);
    }),
};
