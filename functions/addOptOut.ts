// PUT /api/opt-outs/{phone} — opts a person out of one number or of the whole pool, with a reason.
import type { HttpFunctionOptions, HttpRequest, InvocationContext } from '@azure/functions';
import { deps } from '../shared/composition.js';
import { handleHttp, readJsonBody, withPhone } from '../shared/adapters/functions/http.js';
import { optOutPutBody } from '../shared/http/optOuts.js';
import { json, validationProblem } from '../shared/http/problem.js';
import { addOptOut as add } from '../shared/pipeline/optOuts.js';

export const addOptOut: HttpFunctionOptions = {
  methods: ['PUT'],
  route: 'opt-outs/{phone}',
  authLevel: 'function',
  handler: (request: HttpRequest, context: InvocationContext) =>
    handleHttp(request, context, (log) =>
      withPhone(request, async (phone) => {
        const body = await readJsonBody(request, optOutPutBody);
        if (!body.ok) return body.result;
        const outcome = await add(deps().consent(log), phone, body.value);
        if (outcome.kind === 'invalid') return validationProblem([{ field: outcome.field, message: outcome.message }]);
        return json(200, outcome.result);
      }),
    ),
};
