// DELETE /api/opt-outs/{phone} — lifts a person's opt-out of one number, the pool-wide one, or all.
import type { HttpFunctionOptions, HttpRequest, InvocationContext } from '@azure/functions';
import { deps } from '../shared/composition.js';
import { handleHttp, readQuery, withPhone } from '../shared/adapters/functions/http.js';
import { optOutDeleteQuery } from '../shared/http/optOuts.js';
import { json, validationProblem } from '../shared/http/problem.js';
import { removeOptOut as remove } from '../shared/pipeline/optOuts.js';

export const removeOptOut: HttpFunctionOptions = {
  methods: ['DELETE'],
  route: 'opt-outs/{phone}',
  authLevel: 'function',
  handler: (request: HttpRequest, context: InvocationContext) =>
    handleHttp(request, context, (log) =>
      withPhone(request, async (phone) => {
        const query = readQuery(request, optOutDeleteQuery, ['from', 'reason']);
        if (!query.ok) return query.result;
        const outcome = await remove(deps().consent(log), phone, query.value);
        if (outcome.kind === 'invalid') return validationProblem([{ field: outcome.field, message: outcome.message }]);
        return json(200, outcome.result);
      }),
    ),
};
