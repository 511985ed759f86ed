// GET /api/health — whether storage, the outbound queue and the ACS endpoint are reachable.
import type { HttpFunctionOptions, HttpRequest, InvocationContext } from '@azure/functions';
import { deps } from '../shared/composition.js';
import { handleHttp } from '../shared/adapters/functions/http.js';
import { json } from '../shared/http/problem.js';
import { checkHealth } from '../shared/pipeline/health.js';

export const health: HttpFunctionOptions = {
  methods: ['GET'],
  route: 'health',
  authLevel: 'anonymous',
  handler: (_request: HttpRequest, context: InvocationContext) =>
    handleHttp(context, async () => {
      const report = await checkHealth(deps().healthChecks());
      return json(report.status === 'healthy' ? 200 : 503, report, report.status === 'healthy' ? {} : { 'retry-after': '10' });
    }),
};
