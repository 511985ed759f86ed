// DELETE /api/opt-outs/{phone} — lifts a person's opt-out of one number, the pool-wide one, or all.
import type { HttpFunctionOptions, HttpRequest, InvocationContext } from '@azure/functions';
import { consentDeps, services } from '../shared/composition.js';
import { contextLogger } from '../shared/adapters/functions/logger.js';
import { handleHttp, phoneParam, readQuery } from '../shared/adapters/functions/http.js';
import { optOutDeleteQuery } from '../shared/http/inboundSchemas.js';
import { json, validationProblem } from '../shared/http/problem.js';
import { removeOptOut as remove } from '../shared/pipeline/optOuts.js';

export const removeOptOut: HttpFunctionOptions = {
  methods: ['DELETE'],
  route: 'opt-outs/{phone}',
  authLevel: 'function',
  handler: (request: HttpRequest, context: InvocationContext) =>
    handleHttp(context, async () => {
      const phone = phoneParam(request);
      if (!phone.ok) return phone.result;
      const query = readQuery(request, optOutDeleteQuery, ['from', 'reason']);
      if (!query.ok) return query.result;
      const outcome = await remove(consentDeps(services(), contextLogger(context)), phone.phone, query.value);
      if (outcome.kind === 'invalid') return validationProblem([{ field: outcome.field, message: outcome.message }]);
      return json(200, outcome.result);
    }),
};
