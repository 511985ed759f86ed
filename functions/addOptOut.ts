// PUT /api/opt-outs/{phone} — opts a person out of one number or of the whole pool, with a reason.
import type { HttpFunctionOptions, HttpRequest, InvocationContext } from '@azure/functions';
import { consentDeps, services } from '../shared/composition.js';
import { contextLogger } from '../shared/adapters/functions/logger.js';
import { handleHttp, phoneParam, readJsonBody } from '../shared/adapters/functions/http.js';
import { optOutPutBody } from '../shared/http/inboundSchemas.js';
import { json, validationProblem } from '../shared/http/problem.js';
import { addOptOut as add } from '../shared/pipeline/optOuts.js';

export const addOptOut: HttpFunctionOptions = {
  methods: ['PUT'],
  route: 'opt-outs/{phone}',
  authLevel: 'function',
  handler: (request: HttpRequest, context: InvocationContext) =>
    handleHttp(context, async () => {
      const phone = phoneParam(request);
      if (!phone.ok) return phone.result;
      const body = await readJsonBody(request, optOutPutBody);
      if (!body.ok) return body.result;
      const outcome = await add(consentDeps(services(), contextLogger(context)), phone.phone, body.value);
      if (outcome.kind === 'invalid') return validationProblem([{ field: outcome.field, message: outcome.message }]);
      return json(200, outcome.result);
    }),
};
