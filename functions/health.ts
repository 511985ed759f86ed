// GET /api/health — whether storage, the outbound queue and ACS answer, and ACS accepts the app's identity.
import type { HttpFunctionOptions, HttpRequest, InvocationContext } from '@azure/functions';
import { services } from '../shared/composition.js';
import { handleHttp } from '../shared/adapters/functions/http.js';
import { json } from '../shared/http/problem.js';
import { checkHealth } from '../shared/pipeline/health.js';

export const health: HttpFunctionOptions = {
  methods: ['GET'],
  route: 'health',
  authLevel: 'anonymous',
  handler: (_request: HttpRequest, context: InvocationContext) =>
    handleHttp(context, async () => {
      const s = services();
      const report = await checkHealth({
        storage: () => s.messages.ping(),
        queue: () => s.queue.ping(),
        // With one of our numbers, so the check proves ACS accepts the app's identity for SMS.
        acs: () => s.gateway.ping(s.config.senders[0]?.number),
      });
      return json(report.status === 'healthy' ? 200 : 503, report, report.status === 'healthy' ? {} : { 'retry-after': '10' });
    }),
};
